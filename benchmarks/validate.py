"""How fast is the validation pipeline? One run, four measurements, ratios against peers.

    .venv/bin/python benchmarks/validate.py [--seconds S] [--sets N] [--block B] [--stages]
        [--profile]

Every measurement validates the same import sets — order CEB311 + payment CEB411 + waybill
CEB511, built from the first record of each official 202205 sample and made valid (lines that
add up, a goods value under the 5,000 CNY limit, payer = buyer, the waybill's consignee = the
order's), with orderNo, payTransactionId, logisticsNo and guids varied per set
(``benchmarks/validate_sets.py``):

(p) the full pipeline, ``declarations.validate_set`` (parse → identify → schema with the
    project's ``xsd/9610/import.xsd`` → business rules → reconciliation): sets/s;
(a) bare lxml: ``etree.fromstring`` + ``XMLSchema.validate`` with the OFFICIAL import XSD
    (compiled once), on the same documents: sets/s;
(b) the pure-Python ``xmlschema`` library with the official XSD, same documents: sets/s;

then the ratios p/a (target >= 0.6) and p/b (target >= 25), and p against 3,000 sets/s on one
core. Beside (p) runs (s), the pipeline's schema layer alone (parse → identify → schema, no
rules, reconciliation or report): (s) and the ratio of (a) to (b) show how far the target
against (b) can be reached at all.

Everything runs on one thread and is timed in CPU time of this process
(``time.process_time``), so rates are those of one core. Each run is timed against bare lxml
in pairs of short rounds on the same sets, back to back (``Paired``); the ratios given are the
medians of the pairs' ratios, steady where best-of timings of separate rounds swing with a
shared machine's load. Rates (sets/s) are each run's fastest round. The official files are read
from ``DANCHUANG_CEB_REFERENCE_DIR`` (default ``../shared/reference/ceb-202205``).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from benchmarks.validate_sets import build_sets  # noqa: E402
from declarations.pipeline import (  # noqa: E402
    CHECK_STEPS,
    IDENTIFY_STEPS,
    Context,
    Options,
    identify_step,
    parse_step,
    rules_step,
    schema_step,
    signature_step,
    validate_set,
)

TARGET_VS_LXML = 0.6
TARGET_VS_XMLSCHEMA = 25.0
TARGET_SETS_PER_SECOND = 3000.0

REFERENCE = Path(
    os.environ.get("DANCHUANG_CEB_REFERENCE_DIR", REPO.parent / "shared/reference/ceb-202205")
)

Run = Callable[[list[bytes]], object]


@dataclass
class Paired:
    """A run timed against bare lxml in pairs of short rounds, back to back on the same sets.

    A shared machine's load comes and goes, and it slows the interpreter and libxml2 unequally,
    so best-of timings of separate rounds compare moments of different load. The two rounds of
    a pair share their moment: the median of the pairs' ratios is steady from run to run."""

    label: str
    times: list[float] = field(default_factory=list)  # CPU seconds per set, each round
    bare_times: list[float] = field(default_factory=list)  # bare lxml's, in the same pairs

    @property
    def rate(self) -> float:
        """Sets per second in the fastest round."""
        return 1 / min(self.times)

    @property
    def vs_bare(self) -> float:
        """Median over the pairs of bare lxml's time / this run's: "0.6x of bare lxml"."""
        return statistics.median(self.ratios)

    @property
    def spread(self) -> tuple[float, float]:
        """The middle half of the pairs' ratios (first and third quartiles)."""
        first, _, third = statistics.quantiles(self.ratios, n=4)
        return first, third

    @property
    def ratios(self) -> list[float]:
        return [bare / time for bare, time in zip(self.bare_times, self.times, strict=True)]

    def microseconds(self) -> float:
        """This run's time per set, as the median pair's ratio applied to bare lxml's median."""
        return statistics.median(self.bare_times) / self.vs_bare * 1e6


def cpu_time_per_set(run: Run, sets: list[list[bytes]], passes: int = 1) -> float:
    """Mean CPU time of ``run`` over ``passes`` passes through ``sets``, after one untimed set:
    the other run of the pair has just filled the caches with its own code and data, and a
    short round would otherwise pay for refilling them."""
    run(sets[-1])
    start = time.process_time()
    for _ in range(passes):
        for one in sets:
            run(one)
    return (time.process_time() - start) / (len(sets) * passes)


def measure_paired(
    runs: list[tuple[str, Run]],
    bare: Run,
    sets: list[list[bytes]],
    block: int,
    seconds: float,
    *,
    bare_passes: int = 1,
) -> list[Paired]:
    """Pairs of rounds of ``block`` sets (the blocks taking turns through ``sets``), every run
    against bare lxml, for about ``seconds`` of CPU time and at least 8 pairs each. Which of a
    pair goes first alternates, so that neither always runs on the other's warm caches. Against
    a run many times slower, ``bare_passes`` passes through the block make bare lxml's round
    long enough to time."""
    blocks = [sets[i : i + block] for i in range(0, len(sets), block)]
    results = [Paired(label) for label, _ in runs]
    gc.collect()
    start, turn = time.process_time(), 0
    while turn < 8 or time.process_time() - start < seconds:
        chunk = blocks[turn % len(blocks)]
        for (_, run), result in zip(runs, results, strict=True):
            if turn % 2:
                result.times.append(cpu_time_per_set(run, chunk))
                result.bare_times.append(cpu_time_per_set(bare, chunk, bare_passes))
            else:
                result.bare_times.append(cpu_time_per_set(bare, chunk, bare_passes))
                result.times.append(cpu_time_per_set(run, chunk))
        turn += 1
    return results


def pipeline_upto(steps: tuple[object, ...]) -> Callable[[list[bytes]], object]:
    """The steps ``validate_set`` runs up to some point, called one by one on each document."""
    options = Options()

    def run(one: list[bytes]) -> object:
        contexts = [Context(f"<document {i}>", d, options) for i, d in enumerate(one)]
        for ctx in contexts:
            for step in steps:
                step(ctx)  # type: ignore[operator]
        return contexts

    return run


def print_stages(
    sets: list[list[bytes]],
    seconds: float,
    bare_parse: Run,
    bare_validate: Run,
) -> None:
    """Where a set's time goes: each stage measured as the pipeline up to it, minus the one
    before (the same steps ``validate_set`` runs, called one by one), next to bare lxml."""
    upto = pipeline_upto
    stages = [
        ("parse (hardened)", upto((parse_step,))),
        ("identify", upto(IDENTIFY_STEPS)),
        ("signatures", upto((*IDENTIFY_STEPS, signature_step))),
        ("schema", upto((*IDENTIFY_STEPS, signature_step, schema_step))),
        ("business rules", upto((*IDENTIFY_STEPS, *CHECK_STEPS))),
        ("reconciliation+report", validate_set),
    ]
    assert (parse_step, identify_step) == IDENTIFY_STEPS
    assert (signature_step, schema_step, rules_step) == CHECK_STEPS
    runs = [("bare parse", bare_parse), *stages]
    measured = {p.label: p for p in measure_paired(runs, bare_validate, sets, 20, seconds)}
    per_set = {label: p.microseconds() for label, p in measured.items()}
    bare_total = statistics.median(measured["bare parse"].bare_times) * 1e6
    print("\nstage breakdown (CPU microseconds per set, from the medians of paired rounds):")
    parse_only = per_set["bare parse"]
    print(f"  {'bare lxml parse':<24}{parse_only:>9.0f} us")
    print(f"  {'bare lxml XSD':<24}{bare_total - parse_only:>9.0f} us")
    print(f"  {'bare total':<24}{bare_total:>9.0f} us")
    before = 0.0
    for label, _ in stages:
        print(f"  {label:<24}{per_set[label] - before:>9.0f} us")
        before = per_set[label]
    print(f"  {'pipeline total':<24}{before:>9.0f} us")


def print_results(pipeline: Paired, schema_layer: Paired, pure: Paired, block: int) -> None:
    pairs = len(pipeline.times)
    print(
        f"({pairs} pairs of rounds of {block} sets against bare lxml; medians of the pairs'"
        " ratios,\nthe middle half of them in brackets)\n"
    )
    print(f"{'run':<26}{'sets/s':>9}   {'x of bare lxml':<20}")
    bare_rate = 1 / min(pipeline.bare_times + schema_layer.bare_times)
    for run in (pipeline, schema_layer, pure):
        low, high = run.spread
        ratio = f"{run.vs_bare:.3g}x ({low:.3g}-{high:.3g})"
        print(f"{run.label:<26}{run.rate:>9,.0f}   {ratio:<20}")
    print(f"{'bare lxml parse + XSD':<26}{bare_rate:>9,.0f}   1x")
    print()
    checks = [
        ("pipeline / bare lxml", pipeline.vs_bare, TARGET_VS_LXML, "x"),
        ("pipeline / xmlschema", pipeline.vs_bare / pure.vs_bare, TARGET_VS_XMLSCHEMA, "x"),
        ("pipeline sets/s (1 core)", pipeline.rate, TARGET_SETS_PER_SECOND, ""),
    ]
    for label, value, target, unit in checks:
        verdict = "meets" if value >= target else "MISSES"
        print(f"{label:<28}{value:>11,.2f}{unit}  target >= {target:,.1f}{unit}: {verdict}")
    # The target against xmlschema, restated against bare lxml: what it asks of the pipeline,
    # next to what the schema layer alone (no rules, reconciliation or report) reaches.
    asked = TARGET_VS_XMLSCHEMA * pure.vs_bare
    print(
        f"\n{TARGET_VS_XMLSCHEMA:.0f}x of xmlschema is {asked:.2f}x of bare lxml here"
        f" (xmlschema is {1 / pure.vs_bare:.0f}x slower than bare lxml);"
        f"\nthe schema layer alone runs at {schema_layer.vs_bare:.2f}x of bare lxml."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=6.0, help="CPU time of the paired rounds (default 6)"
    )
    parser.add_argument("--sets", type=int, default=200, help="distinct sets to cycle (200)")
    parser.add_argument("--block", type=int, default=20, help="sets per round (default 20)")
    parser.add_argument(
        "--xmlschema-seconds",
        type=float,
        default=3.0,
        help="CPU time of the rounds against the slow pure-Python peer (default 3)",
    )
    parser.add_argument("--stages", action="store_true", help="print the stage breakdown")
    parser.add_argument(
        "--profile", action="store_true", help="print the stage breakdown and a cProfile summary"
    )
    args = parser.parse_args()

    official = REFERENCE / "xsd" / "ceb-import-202205.xsd"
    if not official.is_file():
        raise SystemExit(
            f"the official CEB 202205 files are not at {REFERENCE}; "
            "set DANCHUANG_CEB_REFERENCE_DIR to the folder holding xsd/ and samples/"
        )
    sets = build_sets(REFERENCE, args.sets)
    report = validate_set(sets[0])
    if not report.valid:
        problems = "\n".join(f"  {f.source}: {f.rule} {f.message_en}" for f in report.findings)
        raise SystemExit(f"the benchmark's sets are not valid:\n{problems}")

    official_schema = etree.XMLSchema(etree.parse(str(official)))
    bare_parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def bare_lxml(one: list[bytes]) -> object:
        return [official_schema.validate(etree.fromstring(d, bare_parser)) for d in one]

    def bare_parse(one: list[bytes]) -> object:
        return [etree.fromstring(d, bare_parser) for d in one]

    import xmlschema  # noqa: PLC0415 - a dev dependency, only needed here

    pure_schema = xmlschema.XMLSchema(str(official))

    def pure_python(one: list[bytes]) -> object:
        return [pure_schema.is_valid(d.decode("utf-8")) for d in one]

    assert all(bare_lxml(sets[0])), "the official XSD rejects the benchmark's sets"
    assert all(pure_python(sets[0])), "xmlschema rejects the benchmark's sets"

    pipeline, schema_layer = measure_paired(
        [
            ("pipeline validate_set", validate_set),
            ("schema layer only", pipeline_upto((*IDENTIFY_STEPS, schema_step))),
        ],
        bare_lxml,
        sets,
        args.block,
        args.seconds,
    )
    # xmlschema takes some 30 times as long: rounds of 4 sets keep its pairs short, and bare
    # lxml goes 10 times through each block.
    (pure,) = measure_paired(
        [("xmlschema (pure Python)", pure_python)],
        bare_lxml,
        sets[:40],
        4,
        args.xmlschema_seconds,
        bare_passes=10,
    )
    print_results(pipeline, schema_layer, pure, args.block)

    if args.stages or args.profile:
        print_stages(sets, args.seconds, bare_parse, bare_lxml)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(5):
            for one in sets:
                validate_set(one)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("\nprofile of 5 x", len(sets), "sets (by own time):")
        print(out.getvalue())


if __name__ == "__main__":
    main()
