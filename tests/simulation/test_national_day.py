"""The national day: a national file loads with clear errors, scales its sites, runs as one
job, and merges the sites into national KPIs by the stated rule; the model keeps no
declaration after it leaves."""

from __future__ import annotations

import gc
import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from app.cli import cli
from simulation.durations import Uniform
from simulation.model import ClearanceModel
from simulation.national import NationalResult, run_national, site_seed
from simulation.national_file import NationalError, load_national, scale_scenario
from simulation.national_merge import EDGES, Digest, percentile
from simulation.paths import find_scenario
from simulation.runner import run_replication
from simulation.runtime import Lodgement
from simulation.scenario import BatchArrivals, PoissonArrivals, load_scenario

DATA = Path(__file__).parent / "data" / "national"
TINY = DATA / "tiny-nation.yaml"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny() -> NationalResult:
    return run_national(load_national(TINY))


def test_the_national_count_is_the_sum_of_the_sites(tiny: NationalResult) -> None:
    assert [s.entry.name for s in tiny.sites] == ["air", "bonded", "post"]
    for i, national in enumerate(tiny.national.replications):
        sites = [s.result.replications[i] for s in tiny.sites]
        assert all(r.index == i for r in sites)
        assert national.arrived == sum(r.arrived for r in sites) > 0
        assert national.in_system == sum(r.in_system for r in sites)
        assert national.conservation_ok
        for name in ("arrived_after_warmup", "throughput_per_hour", "stage.audit.served"):
            assert national.kpis[name] == pytest.approx(sum(r.kpis[name] for r in sites))
    assert tiny.parcels == pytest.approx(sum(s.parcels for s in tiny.sites))


def test_merged_means_are_the_count_weighted_means_of_the_sites(tiny: NationalResult) -> None:
    for i, national in enumerate(tiny.national.replications):
        sites = [s.result.replications[i].kpis for s in tiny.sites]
        for stage in ("audit", "review", "machine_check"):
            served = [k.get(f"stage.{stage}.served", 0.0) for k in sites]
            means = [k.get(f"stage.{stage}.wait.mean", math.nan) for k in sites]
            by_hand = sum(n * m for n, m in zip(served, means, strict=True) if n) / sum(served)
            assert national.kpis[f"stage.{stage}.wait.mean"] == pytest.approx(by_hand)
            assert national.kpis[f"stage.{stage}.served"] == sum(served)
    # Across replications, the national KPIs get the same t-intervals as a site's.
    estimate = tiny.national.kpis["throughput_per_hour"]
    values = [r.kpis["throughput_per_hour"] for r in tiny.national.replications]
    assert estimate.n == 2 and estimate.mean == pytest.approx(np.mean(values))
    assert estimate.low < estimate.mean < estimate.high


def test_a_one_site_nation_has_the_sites_percentiles_within_one_percent(tmp_path: Path) -> None:
    file = tmp_path / "one.yaml"
    file.write_text(
        f"name: one\nreplications: 1\nsites:\n  - {{name: air, scenario: {DATA}/tiny-air.yaml}}\n",
        encoding="utf-8",
    )
    result = run_national(load_national(file))
    site, national = result.sites[0].result.kpis, result.national.kpis
    for name in ("cycle_time.all", "trs.decision_to_release", "stage.review.sojourn"):
        assert national[f"{name}.mean"].mean == pytest.approx(site[f"{name}.mean"].mean)
        for p in (50, 90, 95, 99):
            exact = site[f"{name}.p{p}"].mean
            assert national[f"{name}.p{p}"].mean == pytest.approx(exact, rel=0.011, abs=2e-3)


def test_percentile_of_a_histogram() -> None:
    data = np.random.default_rng(3).exponential(100.0, 20_000)
    counts, _ = np.histogram(data, bins=EDGES)
    for q in (50, 90, 99):
        assert percentile(counts, q) == pytest.approx(np.percentile(data, q), rel=0.01)
    assert math.isnan(percentile(np.zeros(len(EDGES) - 1, dtype=np.int64), 50))
    empty = Digest()
    empty.add_samples("x", [])
    assert empty.tallies["x.mean"] == (0.0, 0.0)


def test_a_scale_multiplies_volume_and_capacity_alike() -> None:
    air = load_scenario(DATA / "tiny-air.yaml")
    double = scale_scenario(air, 2.0)
    arrivals = double.flows[0].arrivals
    assert isinstance(arrivals, PoissonArrivals) and arrivals.rate_per_hour == 1200
    assert double.resources["officers"].capacity == 4
    assert double.resources["engine"].capacity is None  # unlimited stays unlimited
    bonded = scale_scenario(load_scenario(DATA / "tiny-bonded.yaml"), 1.5)
    batches = bonded.flows[0].arrivals
    assert isinstance(batches, BatchArrivals) and isinstance(batches.size, Uniform)
    assert (batches.size.low, batches.size.high) == (30, 90)
    assert bonded.resources["officers"].capacity == 2  # 1.5 rounded up
    ezhou = scale_scenario(load_scenario(find_scenario("ezhou-huahu-source")), 0.5)
    assert all(p.size >= 1 for p in ezhou.lock_pools.values())


def test_seeds_depend_on_the_site_and_replication_only(tiny: NationalResult) -> None:
    assert site_seed(1, 2, 3).generate_state(4).tolist() == (
        np.random.SeedSequence(1).spawn(3)[2].spawn(4)[3].generate_state(4).tolist()
    )
    again = run_national(load_national(TINY))
    assert json.dumps(again.to_json_dict()["national"]["kpis"]) == json.dumps(
        tiny.to_json_dict()["national"]["kpis"]
    )
    other = run_national(load_national(TINY), seed=6)
    assert other.national.kpis["arrived_after_warmup"] != tiny.national.kpis["arrived_after_warmup"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{name: a, scenario: tiny-air.yaml, scale: 0}", r"sites\.0 \(a\): scale: .*greater"),
        ("{name: a, scenario: nowhere}", r"sites\.0 \(a\): scenario: no scenario file 'nowhere'"),
        ("{name: a, scenario: tiny-air.yaml, colour: red}", r"sites\.0 \(a\): colour: Extra"),
        ("{scenario: tiny-air.yaml}", r"sites\.0: name: Field required"),
    ],
)
def test_a_bad_entry_is_named(tmp_path: Path, entry: str, message: str) -> None:
    file = tmp_path / "bad.yaml"
    (tmp_path / "tiny-air.yaml").write_text((DATA / "tiny-air.yaml").read_text(), encoding="utf-8")
    file.write_text(f"name: bad\nsites:\n  - {entry}\n", encoding="utf-8")
    with pytest.raises(NationalError, match=message):
        load_national(file)


def test_a_name_used_twice_and_a_short_horizon_are_refused(tmp_path: Path) -> None:
    twice = tmp_path / "twice.yaml"
    air = DATA / "tiny-air.yaml"
    twice.write_text(
        f"name: t\nsites:\n  - {{name: a, scenario: {air}}}\n  - {{name: a, scenario: {air}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(NationalError, match=r"sites\.1 \(a\): the name is used twice"):
        load_national(twice)
    short = tmp_path / "short.yaml"
    short.write_text(
        f"name: s\nhorizon_hours: 0.05\nsites:\n  - {{name: a, scenario: {air}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(NationalError, match=r"sites\.0 \(a\): horizon_hours 0.05 must exceed"):
        load_national(short)


def test_the_shipped_national_day_is_twenty_sites_and_twenty_million() -> None:
    national = load_national(ROOT / "scenarios" / "national" / "china-day.yaml")
    assert len(national.sites) >= 20
    assert national.horizon_hours == 24


def test_the_model_keeps_no_declaration_after_it_leaves() -> None:
    scenario = load_scenario(find_scenario("ezhou-huahu"))
    counted: list[tuple[int, int, int]] = []

    def count(model: ClearanceModel) -> None:
        gc.collect()
        alive = sum(1 for o in gc.get_objects() if isinstance(o, Lodgement))
        counted.append((model.arrived, len(model.live), alive))

    run_replication(scenario, 1, horizon_hours=3.0, inspect=count)
    ((arrived, live, alive),) = counted
    assert arrived > 5 * live and alive == live


def test_the_command_runs_and_writes_its_files(tmp_path: Path) -> None:
    out, report = tmp_path / "n.json", tmp_path / "n.html"
    args = ["national", str(TINY), "-w", "1", "--json", str(out), "--report", str(report)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Parcels in the day" in result.stdout and "post" in result.stdout
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["format"] == "danchuang-national"
    assert [s["name"] for s in document["sites"]] == ["air", "bonded", "post"]
    assert 'data-site="bonded"' in report.read_text(encoding="utf-8")
    bad = runner.invoke(cli, ["national", str(tmp_path / "none.yaml")])
    assert bad.exit_code == 2 and "cannot read" in bad.stderr
