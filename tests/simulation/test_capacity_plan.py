"""The capacity planner finds what Erlang-C says, examines candidates cheapest first with
common random numbers, refuses what it cannot read with clear errors, and runs on Dask."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from simulation.capacity_plan import PlanError, parse_range, parse_target, plan_capacity
from simulation.scenario import Scenario, load_scenario, parse_scenario
from simulation.sweep import apply_overrides
from simulation.theory import mmc, mmc_wait_exceedance

ROOT = Path(__file__).resolve().parents[2]
MMC = ROOT / "scenarios" / "validation" / "mmc.yaml"
PLANTED = Path(__file__).parent / "data" / "planted-bottleneck.yaml"
runner = CliRunner()


def _mmc() -> Scenario:
    # Poisson at 144 per hour, exponential services of mean 1 min: a = 2.4 Erlangs.
    return apply_overrides(load_scenario(MMC), {"horizon_hours": 25, "warmup_hours": 5})


def _erlang_c_answer(t_hours: float, x: float) -> int:
    """The least c with P(wait > t) <= x in the M/M/c queue (Erlang C)."""
    c = 3  # the least stable c for a = 2.4
    while mmc_wait_exceedance(mmc(144, 60, c), t_hours) > x:
        c += 1
    return c


@pytest.mark.parametrize(("x", "seed"), [(0.10, 1), (0.02, 7)])
def test_plan_finds_the_least_c_erlang_c_gives(x: float, seed: int) -> None:
    expected = _erlang_c_answer(1 / 60, x)  # P(wait > 1 min): c = 4 for 10 %, 5 for 2 %
    assert expected == {0.10: 4, 0.02: 5}[x]
    target = parse_target(f"stage.audit.wait_within.1min >= {1 - x}")
    plan = plan_capacity(_mmc(), [target], [parse_range("resources.servers=1..8")], seed=seed)
    assert plan.recommended is not None
    assert plan.recommended.values == {"resources.servers.capacity": expected}
    verdicts = {c.values["resources.servers.capacity"]: c.verdict for c in plan.candidates}
    assert all(verdicts[c] == "infeasible" for c in range(1, expected))  # cheaper: ruled out
    assert all(verdicts[c] == "not run" for c in range(expected + 1, 9))  # dearer: not needed
    # The evidence: the recommendation's one-sided lower bound clears the target.
    low, _high = plan.recommended.bounds[target.kpi]
    assert low >= 1 - x


def test_candidates_share_their_seeds_and_smaller_ones_are_ruled_out() -> None:
    scenario = load_scenario(PLANTED)
    plan = plan_capacity(
        scenario,
        [parse_target("released_within.9610-import.20min >= 0.95")],
        [parse_range("resources.auditors=1..2"), parse_range("resources.reviewers=1..2")],
        seed=2,
        n_max=10,
    )
    assert plan.recommended is not None
    assert plan.recommended.values == {
        "resources.auditors.capacity": 2,
        "resources.reviewers.capacity": 1,
    }
    assert [c.cost for c in plan.candidates] == [2, 3, 3, 4]  # units: servers, cheapest first
    first = plan.candidates[0]
    assert first.verdict == "infeasible"
    # (1, 2) is no smaller than (1, 1) in every value, so it is run, and it misses too.
    assert plan.candidates[1].values["resources.auditors.capacity"] == 1
    assert plan.candidates[1].verdict == "infeasible"


def test_a_target_kpi_must_be_one_the_run_reports() -> None:
    with pytest.raises(PlanError, match="valid names are:") as caught:
        plan_capacity(
            _mmc(),
            [parse_target("released_within.no-such-regime.2h >= 0.9")],
            [parse_range("resources.servers=3..4")],
        )
    assert "released_within.express.2h" in str(caught.value)  # the mmc flow's channel


@pytest.mark.parametrize(
    ("target", "vary", "message"),
    [
        ("throughput_per_hour > 3", "resources.servers=1..2", "expected 'KPI >= VALUE'"),
        ("throughput_per_hour >= 3", "resources.servers=1..x", "must be whole numbers"),
        ("throughput_per_hour >= 3", "resources.servers", "expected PATH=LOW..HIGH"),
        ("throughput_per_hour >= 3", "resources.nobody=1..2", "nobody"),
    ],
)
def test_bad_targets_and_ranges_are_clear_errors(target: str, vary: str, message: str) -> None:
    result = runner.invoke(cli, ["plan", str(MMC), "--target", target, "--vary", vary])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_a_pool_on_shifts_is_varied_per_shift_step() -> None:
    small = load_scenario(Path(__file__).parent / "data" / "small-site.yaml")
    with pytest.raises(PlanError, match=r"vary resources\.officers\.schedule\.0\.capacity, "):
        plan_capacity(
            small,
            [parse_target("throughput_per_hour >= 1")],
            [parse_range("resources.officers=2..3")],
        )


def test_a_varied_pool_without_a_price_is_refused() -> None:
    small = (Path(__file__).parent / "data" / "small-site.yaml").read_text(encoding="utf-8")
    unpriced = parse_scenario(small.replace("  lock_per_day: {huahu: 10}\n", ""))
    with pytest.raises(PlanError, match="gives 'huahu' no price"):
        plan_capacity(
            unpriced,
            [parse_target("throughput_per_hour >= 1")],
            [parse_range("lock_pools.huahu.size=2..3")],
        )


def test_the_cli_prints_the_recommendation_and_writes_the_frontier(tmp_path: Path) -> None:
    site = tmp_path / "mmc.yaml"
    site.write_text(
        MMC.read_text(encoding="utf-8").replace("horizon_hours: 500", "horizon_hours: 25"),
        encoding="utf-8",
    )
    svg = tmp_path / "frontier.svg"
    args = ["plan", str(site), "--target", "stage.audit.wait_within.1min >= 0.9",
            "--vary", "resources.servers=2..6", "--workers", "1", "--out", str(svg)]  # fmt: skip
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Recommended: resources.servers.capacity=4" in result.stdout
    assert "clears it" in result.stdout
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg") and "recommended" in text
    # Nothing in the range meets it: exit 1, said plainly.
    none = runner.invoke(cli, [*args[:4], "--vary", "resources.servers=1..2", "-w", "1",
                               "--out", str(svg)])  # fmt: skip
    assert none.exit_code == 1 and "No candidate in the ranges" in none.stdout


@pytest.mark.slow  # an in-process Dask cluster (a few seconds)
def test_plan_on_dask_gives_what_local_gives() -> None:
    distributed = pytest.importorskip("distributed")
    from simulation.sweep import dask_executor  # noqa: PLC0415

    target = [parse_target("stage.audit.wait_within.1min >= 0.9")]
    ranges = [parse_range("resources.servers=3..5")]
    local = plan_capacity(_mmc(), target, ranges, seed=4)
    cluster = distributed.LocalCluster(processes=False, n_workers=2, threads_per_worker=1)
    with cluster, dask_executor(cluster.scheduler_address) as pool:
        remote = plan_capacity(_mmc(), target, ranges, seed=4, executor=pool)
    assert [c.samples for c in remote.candidates] == [c.samples for c in local.candidates]
    assert remote.recommended is not None and local.recommended is not None
    assert remote.recommended.values == local.recommended.values
