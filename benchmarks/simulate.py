"""How fast is the clearance model? One run, three measurements, ratios against peers.

    .venv/bin/python benchmarks/simulate.py [--declarations N] [--parcels N] [--customers N]
                                            [--repeat K] [--million] [--profile]

(a) the full model on the Ezhou Huahu scenario: declarations/s and SimPy events/s;
(b) a bare SimPy three-stage parcel pipeline, one process per parcel (declare, 8 slots, 3 s;
    5 % to 2 X-ray lanes, 15 s; release, 4 slots, 1.2 s; 100 parcels/minute) — the
    reference: parcels/s and events/s;
(c) Ciw on M/M/4 at rho = 0.9 (customers/s), and the model on the same M/M/4 scenario;
then the ratios model/bare-SimPy (per declaration) and model/Ciw against the targets
(>= 0.7x and >= 1.5x); with ``--million``, one replication of one million Ezhou declarations
(target: under 60 s on one core). ``--profile`` prints a cProfile summary of the model run.

Absolute numbers on a shared 2-core machine wander by 20-30 % between runs; the ratios, measured
in the same process one after the other, are what to compare. Every measurement is best-of-K
(``--repeat``) wall time from ``time.perf_counter``, including building the model.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ciw  # dev dependency (make bench installs it)
import numpy as np
import simpy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from simulation.arrivals import arrival_plan  # noqa: E402
from simulation.paths import find_scenario  # noqa: E402
from simulation.runner import run_replication  # noqa: E402
from simulation.scenario import Scenario, TraceArrivals, load_scenario  # noqa: E402
from simulation.theory import mmc  # noqa: E402

TARGET_VS_BARE_SIMPY = 0.7
TARGET_VS_CIW = 1.5
TARGET_MILLION_SECONDS = 60.0

# M/M/c at heavy load: c = 4, mu = 1, rho = 0.9 (Erlang C: P(wait) = 0.7878, Wq = 1.969).
MMC_SERVERS, MMC_MU = 4, 1.0
MMC_LAMBDA = 0.9 * MMC_SERVERS * MMC_MU


@dataclass(frozen=True)
class Measurement:
    """One timed run: how many items (declarations, parcels, customers) in how many seconds."""

    label: str
    items: int
    seconds: float
    events: int | None = None  # SimPy events processed, when the engine is SimPy
    note: str = ""

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds

    @property
    def events_per_second(self) -> float | None:
        return None if self.events is None else self.events / self.seconds


def best_of_interleaved(
    repeat: int, runs: dict[str, Callable[[], Measurement]]
) -> dict[str, Measurement]:
    """The fastest of ``repeat`` runs of each measurement, taken in rounds (a, b, c, a, b, c,
    ...) so that a burst of load from the other tenants of the machine hits every measurement
    alike and the ratios stay fair."""
    best: dict[str, Measurement] = {}
    for _ in range(repeat):
        for key, run in runs.items():
            gc.collect()
            m = run()
            if key not in best or m.seconds < best[key].seconds:
                best[key] = m
    return best


def simpy_events(env: simpy.Environment) -> int:
    """Events scheduled so far: SimPy numbers every scheduled event from one counter."""
    return int(next(env._eid))  # private, but the only count there is


# --- (b) bare SimPy three-stage pipeline ------------------------------------------------------


def bare_simpy_pipeline(parcels: int, seed: int = 1) -> Measurement:
    """The reference pipeline, one generator process per parcel, nothing else.

    Times in seconds: 100 parcels per minute arrive (Poisson); declaration with 8 slots
    (exponential, mean 3 s); 5 % go to 2 X-ray lanes (exponential, mean 15 s); release with
    4 slots (exponential, mean 1.2 s). Each parcel records its finishing time, the minimum a
    real model must also do.
    """
    started = time.perf_counter()
    rng = random.Random(seed)
    expo, uniform = rng.expovariate, rng.random
    env = simpy.Environment()
    declare, xray, release = simpy.Resource(env, 8), simpy.Resource(env, 2), simpy.Resource(env, 4)
    finished = [0.0] * parcels

    def parcel(i: int) -> Any:
        with declare.request() as slot:
            yield slot
            yield env.timeout(expo(1 / 3.0))
        if uniform() < 0.05:
            with xray.request() as lane:
                yield lane
                yield env.timeout(expo(1 / 15.0))
        with release.request() as slot:
            yield slot
            yield env.timeout(expo(1 / 1.2))
        finished[i] = env.now

    def source() -> Any:
        for i in range(parcels):
            yield env.timeout(expo(100 / 60))
            env.process(parcel(i))

    env.process(source())
    env.run()
    seconds = time.perf_counter() - started
    if not all(finished):
        raise RuntimeError("bare pipeline: some parcels never finished")
    return Measurement("bare SimPy 3-stage pipeline", parcels, seconds, simpy_events(env))


# --- (c) Ciw on M/M/c --------------------------------------------------------------------------


def ciw_mmc(customers: int, seed: int = 1) -> Measurement:
    """Ciw 3 on M/M/4 at rho = 0.9 until ``customers`` have arrived; checks its mean wait."""
    started = time.perf_counter()
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(MMC_LAMBDA)],
        service_distributions=[ciw.dists.Exponential(MMC_MU)],
        number_of_servers=[MMC_SERVERS],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(customers, method="Arrive")
    records = sim.get_all_records()
    seconds = time.perf_counter() - started
    waits = sorted(records, key=lambda r: r.arrival_date)[len(records) // 10 :]
    mean_wait = sum(r.waiting_time for r in waits) / len(waits)
    wq = mmc(MMC_LAMBDA, MMC_MU, MMC_SERVERS).wq
    return Measurement(
        "Ciw M/M/4 rho=0.9",
        customers,
        seconds,
        note=f"mean Wq {mean_wait:.3f} (Erlang C {wq:.3f})",
    )


# --- (a) and (c): the clearance model ----------------------------------------------------------


def expected_declarations(scenario: Scenario, seed: int) -> int:
    """Declarations the scenario's arrival plans produce (drawn, not simulated: cheap)."""
    rng = np.random.default_rng(seed)
    total = 0
    for flow in scenario.flows:
        spec = flow.arrivals
        path = scenario.trace_path(spec) if isinstance(spec, TraceArrivals) else None
        total += arrival_plan(spec, scenario.horizon_hours, rng, path).total
    return total


def sized(scenario: Scenario, declarations: int, seed: int) -> Scenario:
    """The scenario with its horizon stretched or shrunk to give about ``declarations``.

    Rates vary over the day and peaks end, so the horizon is found by a few proportional
    corrections on the drawn arrival plans rather than by one rule of three.
    """
    horizon = scenario.horizon_hours
    for _ in range(6):
        candidate = scenario.model_copy(update={"horizon_hours": horizon})
        count = expected_declarations(candidate, seed)
        if count == 0:
            horizon *= 2
            continue
        if abs(count - declarations) / declarations < 0.02:
            break
        horizon *= declarations / count
    return scenario.model_copy(update={"horizon_hours": max(horizon, scenario.warmup_hours + 1)})


def model_run(
    label: str, scenario: Scenario, seed: int, *, erlang_c: float | None = None
) -> Measurement:
    """One replication of the real model, wall time from before building it to its summary."""
    started = time.perf_counter()
    result = run_replication(scenario, seed)
    seconds = time.perf_counter() - started
    if not result.conservation_ok:
        raise RuntimeError(f"{label}: the conservation check failed")
    if erlang_c is not None:
        wait = result.kpis["stage.audit.wait.mean"] / 60
        note = f"mean Wq {wait:.3f} (Erlang C {erlang_c:.3f})"
    else:
        cycle = result.kpis["cycle_time.all.mean"] / 60
        note = f"mean lodgement-to-release {cycle:.1f} min"
    return Measurement(label, result.arrived, seconds, result.events, note=note)


def mmc_scenario(customers: int) -> Scenario:
    """``scenarios/validation/mmc.yaml`` turned into the benchmark's M/M/4 at rho = 0.9."""
    base = load_scenario(find_scenario("validation/mmc.yaml"))
    rate = MMC_LAMBDA * 60  # per hour; the file's service is exponential with mean 1 minute
    flow = base.flows[0]
    flow = flow.model_copy(
        update={"arrivals": flow.arrivals.model_copy(update={"rate_per_hour": rate})}
    )
    hours = customers / rate
    return base.model_copy(
        update={"flows": [flow], "horizon_hours": hours, "warmup_hours": hours / 10}
    )


# --- printing ----------------------------------------------------------------------------------


def show(m: Measurement, unit: str) -> None:
    events = ""
    if m.events is not None and m.events_per_second is not None:
        events = (
            f"  {m.events_per_second:>11,.0f} events/s  ({m.events / m.items:.1f} events/{unit})"
        )
    note = f"  [{m.note}]" if m.note else ""
    print(
        f"  {m.label:<34} {m.items:>9,} {unit}s in {m.seconds:6.2f} s"
        f"  {m.items_per_second:>9,.0f} {unit}s/s{events}{note}"
    )


def verdict(name: str, ratio: float, target: float) -> str:
    mark = "meets" if ratio >= target else "MISSES"
    return f"  {name:<40} {ratio:5.2f}x   (target >= {target}x: {mark})"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--declarations", type=int, default=100_000, help="Ezhou declarations for (a)"
    )
    parser.add_argument("--parcels", type=int, default=100_000, help="parcels for (b)")
    parser.add_argument("--customers", type=int, default=50_000, help="M/M/4 customers for (c)")
    parser.add_argument("--repeat", type=int, default=3, help="best of K runs (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--scenario", default="ezhou-huahu", help="scenario for (a), (d) and --profile"
    )
    parser.add_argument(
        "--million", action="store_true", help="also one replication of 1 M Ezhou declarations"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile summary of the model run"
    )
    return parser.parse_args(argv)


def profile_summary(run: Callable[[], object], top: int = 20) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"danchuang simulation benchmark (Python {sys.version.split()[0]}, simpy "
        f"{simpy.__version__}, best of {args.repeat}; wall times include building each model)"
    )
    ezhou = sized(load_scenario(find_scenario(args.scenario)), args.declarations, args.seed)
    erlang_c = mmc(MMC_LAMBDA, MMC_MU, MMC_SERVERS).wq
    best = best_of_interleaved(
        args.repeat,
        {
            "model": lambda: model_run(args.scenario, ezhou, args.seed),
            "bare": lambda: bare_simpy_pipeline(args.parcels, args.seed),
            "ciw": lambda: ciw_mmc(args.customers, args.seed),
            "mmc_model": lambda: model_run(
                "model M/M/4 rho=0.9", mmc_scenario(args.customers), args.seed, erlang_c=erlang_c
            ),
        },
    )
    print(f"(a) full model: {args.scenario}, horizon {ezhou.horizon_hours:.1f} h")
    show(best["model"], "declaration")
    print("(b) bare SimPy three-stage pipeline")
    show(best["bare"], "parcel")
    print(
        f"    load indicator: we measured 50,000-61,000 parcels/s for (b) on an idle"
        f" machine of this kind; this run: {best['bare'].items_per_second:,.0f}"
    )
    print(f"(c) M/M/{MMC_SERVERS} at rho = 0.9, {args.customers:,} customers")
    show(best["ciw"], "customer")
    show(best["mmc_model"], "customer")

    print("ratios (same run, interleaved, best of each)")
    model_vs_bare = best["model"].items_per_second / best["bare"].items_per_second
    print(
        verdict("model / bare SimPy (declarations per second)", model_vs_bare, TARGET_VS_BARE_SIMPY)
    )
    model_vs_ciw = best["mmc_model"].items_per_second / best["ciw"].items_per_second
    print(verdict("model / Ciw on M/M/4 (customers per second)", model_vs_ciw, TARGET_VS_CIW))
    model = best["model"]
    if args.million:
        million = sized(load_scenario(find_scenario(args.scenario)), 1_000_000, args.seed)
        print(f"(d) one replication of ~1,000,000 declarations ({million.horizon_hours:.1f} h)")
        big = model_run(args.scenario, million, args.seed)
        show(big, "declaration")
        mark = "meets" if big.seconds < TARGET_MILLION_SECONDS else "MISSES"
        print(f"  wall {big.seconds:.1f} s (target < {TARGET_MILLION_SECONDS:.0f} s: {mark})")
        # On a busy shared machine the wall time says more next to a reference speed.
        print(
            f"  = {big.items_per_second / best['bare'].items_per_second:.2f}x the bare SimPy"
            " pipeline's rate measured above"
        )
    if args.profile:
        print(f"cProfile of one model run ({args.scenario}, {model.items:,} declarations)")
        print(profile_summary(lambda: run_replication(ezhou, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
