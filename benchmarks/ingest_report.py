"""The ingest benchmark's report: each load's figures, each against its target from issue 15
(``benchmarks/ingest_targets.py``), the soak's memory, and processes against processes."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from benchmarks.ingest_load import LoadResult
from benchmarks.ingest_server import CpuReading
from benchmarks.ingest_targets import (
    BATCH_RATE,
    ENGINE_LAG,
    SCALING,
    SINGLE_P99,
    SINGLE_RATE,
    Summary,
    Target,
)
from benchmarks.ingest_watch import MB, Backlog, Watched, growth, per_minute, warmed_up

PAD = " " * 4


@dataclass(frozen=True)
class Options:
    sets: int  # one-record sets a run (a soak round)
    batch_sets: int  # batched sets a run (a soak round)
    batches: list[int]  # 1: one-record messages; N > 1: messages of N records
    concurrency: int
    seed: int
    minutes: float | None
    drain_s: float


@dataclass
class Load:
    """One way of sending (a batch size) on one server: its rounds so far, summed."""

    batch: int
    result: LoadResult | None = None
    rounds: int = 0
    skipped: int = 0  # sets left out: a party of theirs was registered before in another role

    def add(self, result: LoadResult) -> None:
        self.result = result if self.result is None else self.result + result
        self.rounds += 1


@dataclass(frozen=True)
class Measured:
    load: Load
    watched: Watched
    whole: CpuReading | None = None  # CPU from the load's start to its drain's end (not a soak's)
    retried: Counter[str] | None = None  # writes taken again, by reason (None: log not read)


def whole_cost(result: LoadResult | None, watched: Watched) -> CpuReading | None:
    """The CPU of one load's sets until the drain stopped: the load's window, plus what the
    server and PostgreSQL spent after it (the engine and the delivery workers run on)."""
    b = watched.backlog
    if result is None or result.ended is None or b is None:
        return None
    window = CpuReading(result.server_cpu_s, result.database_cpu_s)
    return window.plus(b.cpu.since(result.ended))


def report_floor(
    name: str, floor: LoadResult, bare: LoadResult | None, summary: Summary, quiet: str = ""
) -> None:
    """The floor's figures; ``quiet``: how the machine was settled before it (``settle``)."""
    from benchmarks.http_floor import FLOOR_GOAL_MS, FLOOR_MUST_MS, cpu_ms  # noqa: PLC0415

    target = Target("HTTP floor: server CPU per GET", " ms", "≤", FLOOR_MUST_MS, FLOOR_GOAL_MS)
    ms, bare_ms = cpu_ms(floor), cpu_ms(bare) if bare is not None else None
    print(f"\n{name}")
    print(
        f"  HTTP floor (GET /api/v1/enterprises/me, {floor.requests} requests): "
        f"{floor.requests_per_s:.1f} req/s, p50 {floor.percentile(0.5):.1f} ms, "
        f"p99 {floor.percentile(0.99):.1f} ms"
    )
    if quiet:
        print(f"{PAD}before it the server and its PostgreSQL were {quiet}")
    if ms is not None:
        against = f"; bare FastAPI route {bare_ms:.2f} ms ({ms / bare_ms:.2f}×)" if bare_ms else ""
        print(f"{PAD}server CPU per GET {summary.add(name, target, ms)}{against}")


def _per(cpu_s: float | None, count: int) -> str:
    return f"{cpu_s / count * 1000:.2f} ms" if cpu_s is not None and count else "n/a"


def report_load(
    name: str, item: Measured, opts: Options, summary: Summary, *, watched: bool = True
) -> None:
    """One load's figures, each with its target where issue 15 sets one; with ``watched``,
    what was watched over it too (``report_watched``)."""
    load, w = item.load, item.watched
    r = load.result
    assert r is not None
    run = f"{name}, batch {load.batch}"
    if load.batch == 1:
        print(f"  one-record messages: {r.sets} sets × 4 POSTs, {opts.concurrency} sets in flight")
    else:
        print(f"  {load.batch}-record messages: {r.sets} sets, {r.requests} messages of up to "
              f"{load.batch} records, {opts.concurrency} chunks in flight")  # fmt: skip
    if load.rounds > 1:
        print(f"{PAD}({load.rounds} rounds of new sets)")
    if load.skipped:
        print(f"{PAD}({load.skipped} sets left out: a party registered before in another role)")
    rate = {1: SINGLE_RATE, 100: BATCH_RATE}.get(load.batch)
    shown = f"{r.sets_per_s:.1f}"
    print(f"{PAD}sets/s {summary.add(run, rate, r.sets_per_s) if rate else shown}")
    if rate is None:
        summary.note(run, "sets/s", r.sets_per_s)
    p99 = r.percentile(0.99)
    p99_shown = summary.add(run, SINGLE_P99, p99) if load.batch == 1 else f"{p99:.1f} ms"
    print(f"{PAD}per message: p50 {r.percentile(0.5):.1f} ms, p99 {p99_shown}")
    failures = sum(n for n, _ in r.failures.values())
    print(f"{PAD}failures {failures}" + (" (status 0: a record refused)" if failures else ""))
    for status, (count, body) in sorted(r.failures.items()):
        print(f"{PAD}  HTTP {status} ×{count}, e.g. {body}")
    database = r.database_cpu_s
    busy = ((r.server_cpu_s or 0.0) + (database or 0.0) + r.client_cpu_s) / r.seconds
    print(
        f"{PAD}server CPU {_per(r.server_cpu_s, r.sets)} per set, {_per(r.server_cpu_s, r.records)}"
        f" per record, {_per(r.server_cpu_s, r.requests)} per request; load generator "
        f"{_per(r.client_cpu_s, r.requests)} per request"
        + (f"; PostgreSQL {_per(database, r.sets)} per set" if database is not None else "")
        + f"; together {busy:.2f} of {os.cpu_count()} cores"
    )
    if r.server_cpu_s:
        summary.note(run, "server CPU per record", r.server_cpu_s / r.records * 1000, " ms")
    if item.whole is not None and item.whole.server_s is not None and w.backlog is not None:
        quiet = w.backlog.quiescent_s
        until = (f"until quiescent ({quiet:.1f} s after the load)" if quiet is not None else
                 f"until the drain's timeout, a lower bound ({_left(w.backlog)} left)")  # fmt: skip
        database = item.whole.postgres_s
        print(
            f"{PAD}server CPU {_per(item.whole.server_s, r.sets)} per set {until}"
            + (f"; PostgreSQL {_per(database, r.sets)}" if database is not None else "")
        )
    if item.retried is not None:
        again = ", ".join(f"{n} {reason}" for reason, n in sorted(item.retried.items()))
        print(f"{PAD}writes taken again (a concurrent write's lost race or deadlock): "
              f"{again or 'none'}")  # fmt: skip
    if watched:
        report_watched(run, load.batch, w, opts, summary)


def _left(b: Backlog) -> str:
    outbox = "n/a" if b.outbox_left is None else f"{b.outbox_left:.0f}"
    return f"{outbox} deliveries, {sum(b.left.values())} declarations"


def report_watched(run: str, batch: int, w: Watched, opts: Options, summary: Summary) -> None:
    """What was watched over a load: the engine, the webhooks, the server's RSS."""
    _report_engine(run, batch, w, opts, summary)
    _report_webhooks(run, w, summary)
    rss = w.rss()
    if rss:
        print(f"{PAD}server RSS: start {rss[0] / MB:.1f} MB, max {max(rss) / MB:.1f} MB, "
              f"end {rss[-1] / MB:.1f} MB")  # fmt: skip


def _report_engine(run: str, batch: int, w: Watched, opts: Options, summary: Summary) -> None:
    """The clock lag over the load (its target at the batched rate), then the backlog."""
    lags = w.lags()
    if lags:
        line = summary.add(run, ENGINE_LAG, max(lags)) if batch > 1 else f"{max(lags):.2f} s"
        print(f"{PAD}engine clock lag: max {line}; last {lags[-1]:.2f} s")
    else:
        print(f"{PAD}engine clock lag: not sampled (no engine, or /metrics did not answer)")
    b = w.backlog
    if b is None:
        return
    taken = "never" if b.taken_s is None else f"{b.taken_s:.1f} s later"
    final = (f"all final {b.final_s:.1f} s later" if b.final_s is not None else
             f"still not final after {opts.drain_s:.0f} s: {_states(b.left)}")  # fmt: skip
    print(f"{PAD}declarations when the load ended: {b.unfinished} of {sum(b.at_end.values())} "
          f"not final ({_states(b.at_end)}); none waiting for the engine {taken}; "
          f"{final}")  # fmt: skip
    if b.final_s is not None:
        summary.note(run, "seconds until every declaration is final", b.final_s, " s")


def _states(counts: dict[str, int]) -> str:
    return ", ".join(f"{state} {n}" for state, n in sorted(counts.items()))


def _report_webhooks(run: str, w: Watched, summary: Summary) -> None:
    delivered = w.deliveries()
    after, seconds = w.drain_deliveries()
    outbox = next((s.outbox for s in reversed(w.samples + w.drained) if s.outbox is not None), None)
    print(f"{PAD}webhooks: {delivered / w.seconds:.1f} deliveries/s during the load "
          f"({delivered}); after it {after / seconds if seconds else 0.0:.1f}/s ({after} in "
          f"{seconds:.0f} s); outbox then {'n/a' if outbox is None else f'{outbox:.0f}'} "
          f"waiting")  # fmt: skip
    summary.note(run, "webhook deliveries/s during the load", delivered / w.seconds)


def report_soak(name: str, watched: Watched, summary: Summary) -> None:
    """The server's RSS per minute of a soak, and whether it grew."""
    medians = per_minute(watched.samples)
    print("  soak, RSS per minute (median): " + ", ".join(
        f"{n + 1}: {m / MB:.1f} MB" for n, m in enumerate(medians)))  # fmt: skip
    grown = growth(medians)
    if grown is None:
        print(f"{PAD}too short to compare minutes")
        return
    mb, fraction, beyond = grown
    base = f"minute {warmed_up(len(medians)) + 1} (the first half warms up)"
    verdict = "GROWS: beyond the tolerance" if beyond else "no growth beyond the tolerance"
    print(f"{PAD}last minute against {base}: {mb:+.1f} MB ({fraction:+.1%}): {verdict} "
          f"(5 MB and 2 %)")  # fmt: skip
    summary.note(f"{name}, soak", f"RSS growth, last minute vs minute "
                 f"{warmed_up(len(medians)) + 1}", mb, " MB")  # fmt: skip


def _cpu_s(m: Measured, *, whole: bool) -> CpuReading | None:
    """The CPU of a load's sets: until quiescent (``whole``; None when its drain did not reach
    quiescence) or over the load's window."""
    r, b = m.load.result, m.watched.backlog
    if not whole:
        return CpuReading(r.server_cpu_s, r.database_cpu_s) if r is not None else None
    return m.whole if b is not None and b.quiescent_s is not None else None


def report_scaling(rounds: Sequence[Mapping[int, list[Measured]]], summary: Summary) -> None:
    """Sets per server CPU-second with more processes against the first count, per batch: the
    sets' whole cost (from the load's start until every declaration was final and the webhook
    outbox empty) when every run reached quiescence, else over the loads' windows; the server's
    processes only, PostgreSQL's CPU a set printed beside it. With several rounds (the counts
    run in turn, ``--rounds``) each round's ratio is printed, and the one held to the target
    pools them: all the rounds' sets over all their server CPU, for each count."""
    counts = sorted(rounds[0]) if rounds else []
    if len(counts) < 2:
        return
    print("\nPostgreSQL, processes against processes: sets per server CPU-second")
    for count in counts[1:]:
        for batch in [m.load.batch for m in rounds[0][count]]:
            pairs = [p for r in rounds if (p := _pair(r, counts[0], count, batch)) is not None]
            whole = all(_cpu_s(m, whole=True) is not None for pair in pairs for m in pair)
            label = f"postgresql {count} vs {counts[0]}, batch {batch}"
            rates = [(_rate(one, whole), _rate(more, whole)) for one, more in pairs]
            for n, (one, more) in enumerate(rates):
                if one is None or more is None:
                    continue
                held = len(rounds) == 1 and (counts[0], count) == (1, 2)
                shown = summary.add(label, SCALING, more.per_s / one.per_s) if held else (
                    f"{more.per_s / one.per_s:.2f}×")  # fmt: skip
                start = f"  batch {batch}" + (f", round {n + 1}" if len(rounds) > 1 else "")
                print(f"{start}: {one.per_s:.1f} with {counts[0]}, {more.per_s:.1f} with {count}: "
                      f"{shown} ({_how(whole)}; PostgreSQL {one.postgres} a set with "
                      f"{counts[0]}, {more.postgres} with {count})")  # fmt: skip
            known = [(one, more) for one, more in rates if one is not None and more is not None]
            if len(rounds) > 1 and known:
                one_s = sum(one.sets for one, _ in known) / sum(one.cpu_s for one, _ in known)
                more_s = sum(m.sets for _, m in known) / sum(m.cpu_s for _, m in known)
                shown = (summary.add(label, SCALING, more_s / one_s) if (counts[0], count) == (1, 2)
                         else f"{more_s / one_s:.2f}×")  # fmt: skip
                print(f"  batch {batch}, the {len(known)} rounds pooled: {one_s:.1f} with "
                      f"{counts[0]}, {more_s:.1f} with {count}: {shown}")  # fmt: skip


@dataclass(frozen=True)
class _Rate:
    sets: int
    cpu_s: float  # the server's processes
    postgres: str  # PostgreSQL's CPU a set, as printed

    @property
    def per_s(self) -> float:
        return self.sets / self.cpu_s


def _pair(
    run: Mapping[int, list[Measured]], first: int, count: int, batch: int
) -> tuple[Measured, Measured] | None:
    """One round's loads of ``batch`` with ``first`` and ``count`` processes."""
    one, more = (next((m for m in run.get(c, []) if m.load.batch == batch), None)
                 for c in (first, count))  # fmt: skip
    return (one, more) if one is not None and more is not None else None


def _rate(m: Measured, whole: bool) -> _Rate | None:
    cpu, r = _cpu_s(m, whole=whole), m.load.result
    if cpu is None or not cpu.server_s or r is None:
        return None
    return _Rate(r.sets, cpu.server_s, _per(cpu.postgres_s, r.sets))


def _how(whole: bool) -> str:
    return "until quiescent" if whole else "over the loads' windows: a run did not reach quiescence"
