"""The ingest benchmark's own helpers (the benchmark itself drives a real server: run it by hand,
see docs/live-clearance.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from lxml import etree
from script_support import load_script

from benchmarks import ingest_load, ingest_log, ingest_server, ingest_targets, ingest_watch
from benchmarks.ingest_report import Load, Measured, report_scaling, whole_cost
from benchmarks.ingest_watch import MB, Receiver, Sample, growth, metric, per_minute
from declarations import BY_ROOT, CEB_NS, Kind, check
from declarations.messages import Direction, Regime

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")


@pytest.fixture(scope="module")
def ingest() -> ModuleType:
    return load_script(BENCHMARKS / "ingest.py", "ingest_benchmark")


def test_every_party_is_registered_with_every_role_it_plays(ingest: ModuleType) -> None:
    # Seed 1's 200 sets hold a carrier that is also a declarant (a 403 before the fix).
    sets = ingest.build_sets(200, seed=1)
    roles = ingest.parties(sets)
    for sample in sets:
        for kind, code in ingest.senders(sample).items():
            assert ingest.ROLE_OF[kind] in roles[code]
    assert any(len(r) > 1 for r in roles.values())
    # The four flows of the mix are all there, four POSTs (or three) a set.
    assert {(s.deal.regime, s.deal.direction) for s in sets} >= {
        (Regime.DIRECT, Direction.IMPORT),
        (Regime.DIRECT, Direction.EXPORT),
    }
    assert all(3 <= len(ingest.as_submission(s).documents) <= 4 for s in sets)


def _records(xml: bytes) -> list[etree._Element]:
    root = etree.fromstring(xml)
    return root.findall("{" + CEB_NS + "}" + BY_ROOT[etree.QName(root).localname].record)


def test_a_chunk_of_n_sets_is_one_message_of_n_records_per_party() -> None:
    chunks = ingest_load.build_chunks(7, 5, seed=3)
    assert [c.sets for c in chunks] == [5, 2]
    first = chunks[0]  # the first flow of the mix: direct import, four kinds
    kinds = [BY_ROOT[etree.QName(etree.fromstring(m.xml)).localname].kind for m in first.messages]
    assert kinds == [Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY]
    for kind, message in zip(kinds, first.messages, strict=True):
        assert message.records == 5 == len(_records(message.xml))
        assert ingest_load.ROLE_OF[kind] in first.parties[message.code]
        checked = check(message.xml)  # a real message: schema, rules and signature hold
        assert checked.report.valid, [f.rule for f in checked.report.errors()]
    assert all(m.records == 2 for m in chunks[1].messages)
    # four senders (one per kind), the same for every record of its message
    assert len({m.code for m in first.messages}) == len(first.parties) == 4


def test_a_soaks_later_rounds_never_repeat_a_guid() -> None:
    guids: list[str] = []
    for start in (0, 2):  # round 2 continues the chunk numbering
        for chunk in ingest_load.build_chunks(4, 2, seed=9, start=start):
            for message in chunk.messages:
                for record in _records(message.xml):
                    guids.append(record.findtext(".//{" + CEB_NS + "}guid") or "")
    for round_ in (0, 1):
        for sample in ingest_load.single_round(4, 9, round_):
            guids.extend(sample.deal.guids)
    assert len(guids) == len(set(guids)) > 50


def test_figures_against_their_targets_as_ratios() -> None:
    assert ingest_targets.SINGLE_RATE.against(41.6) == "41.6 — must ≥150 (0.28×), goal ≥300 (0.14×)"
    assert (
        ingest_targets.SINGLE_P99.against(241) == "241 ms — must <100 (2.41×), goal <50.0 (4.82×)"
    )
    assert ingest_targets.ratio(1.0, 0) == "∞×"
    summary = ingest_targets.Summary()
    summary.add("sqlite, batch 1", ingest_targets.SINGLE_P99, 75.0)  # the must, not the goal
    summary.add("sqlite, batch 100", ingest_targets.BATCH_RATE, 1500.0)
    summary.add("postgresql 2 vs 1", ingest_targets.SCALING, 0.85)
    summary.note("sqlite, batch 1", "server CPU per record", 7.2, " ms")
    rows = summary.table().splitlines()[2:]
    assert [r.rsplit("|", 3)[1:3] for r in rows] == [
        [" MET ", " NOT MET "],
        [" MET ", " MET "],
        [" NOT MET ", " NOT MET "],
        [" — ", " — "],
    ]


@LINUX
def test_cpu_seconds_counts_this_process(ingest: ModuleType) -> None:
    before = ingest.cpu_seconds(os.getpid())
    sum(i * i for i in range(2_000_000))  # burn a little CPU
    after = ingest.cpu_seconds(os.getpid())
    assert before is not None and after is not None and after > before
    assert ingest.cpu_seconds(None) is None


@LINUX
def test_rss_is_this_process_and_its_children(ingest: ModuleType) -> None:
    status = Path("/proc/self/status").read_text()
    own = next(int(line.split()[1]) * 1024 for line in status.splitlines() if "VmRSS" in line)
    alone = ingest.rss_bytes(os.getpid())
    assert alone is not None and alone >= own / 2
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in ingest_server.process_tree(os.getpid())
        child_rss = ingest.rss_bytes(child.pid)
        with_child = ingest.rss_bytes(os.getpid())
        assert child_rss is not None and with_child is not None and with_child > child_rss
    finally:
        child.kill()
        child.wait()
    assert ingest.rss_bytes(None) is None


def test_the_receiver_counts_deliveries_sent_alone_and_in_batches() -> None:
    with Receiver().running() as receiver, httpx.Client() as client:
        for n in range(3):  # one kept-alive connection, as the delivery worker's
            answer = client.post(f"{receiver.url}/PARTY{n}", json={"type": "receipt"})
            assert answer.status_code == 204
        assert receiver.count == 3
    with Receiver(receipts_per_post=50).running() as receiver, httpx.Client() as client:
        batch = {"type": "batch", "deliveries": [{"type": "receipt"}] * 7}
        assert client.post(f"{receiver.url}/PARTY", json=batch).status_code == 204
        assert receiver.count == 7


def test_the_metrics_and_memory_readings() -> None:
    text = (
        "# HELP danchuang_clock_lag_seconds How far ...\n"
        "danchuang_clock_lag_seconds 0.25\n"
        'danchuang_queue_length{queue="webhook_outbox"} 12.0\n'
    )
    assert metric(text, "danchuang_clock_lag_seconds") == 0.25
    assert metric(text, 'danchuang_queue_length{queue="webhook_outbox"}') == 12.0
    assert metric(text, "danchuang_other") is None
    # three minutes of samples every 30 s: 100 MB, then 110, then 110
    rss = [100, 100, 110, 110, 110, 110]
    samples = [Sample(30.0 * n, r * MB, None, None, 0) for n, r in enumerate(rss)]
    assert per_minute(samples) == [100 * MB, 110 * MB, 110 * MB]
    assert growth(per_minute(samples)) == (0.0, 0.0, False)  # the second minute against the last
    overrun = [*samples, Sample(181.0, 500 * MB, None, None, 0)]  # a last second of minute 4
    assert per_minute(overrun) == per_minute(samples)
    grown = growth([100 * MB, 200 * MB])
    assert grown is not None and grown[0] == 100.0 and grown[2] is True
    assert growth([100 * MB]) is None
    # A longer soak is judged from its middle minute: its caches fill in the first half.
    filling = [200, 260, 280, 300, 300, 301, 301]
    assert growth([m * MB for m in filling]) == (1.0, 1 / 300, False)  # minute 4 against 7
    assert growth([m * MB for m in [*filling[:-1], 320]]) == (20.0, 20 / 300, True)


def test_two_loads_add_up() -> None:
    one = ingest_load.LoadResult(2, 8, 1.0, [1.0, 2.0], {500: (1, "first")}, 0.5, 0.1, 8)
    two = ingest_load.LoadResult(3, 12, 2.0, [3.0], {500: (2, "later")}, None, 0.2, 12)
    both = one + two
    assert (both.sets, both.requests, both.records, both.seconds) == (5, 20, 20, 3.0)
    assert both.failures == {500: (3, "first")} and both.server_cpu_s is None
    assert both.latencies_ms == [1.0, 2.0, 3.0]


@LINUX
def test_the_benchmark_runs_end_to_end_on_a_handful_of_sets() -> None:
    """A few sets each way against a spawned server (SQLite), engine instant: every figure
    printed, nothing refused. The figures themselves are the machine's, not asserted."""
    command = [sys.executable, str(BENCHMARKS / "ingest.py"), "--sets", "4", "--batch", "1,3",
               "--batch-sets", "6", "--concurrency", "2", "--clock-speed", "instant",
               "--drain-timeout", "30", "--seed", "11"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.count("failures 0") == 2, out
    shown_lines = (
        "server CPU per GET",
        "3-record messages: 6 sets, 8 messages",
        "engine clock lag: max",
        "webhooks:",
        "server RSS: start",
        "all final",
    )
    for shown in shown_lines:
        assert shown in out, (shown, out)
    table = out.split("summary (ratio: figure / bound)")[1]
    assert "| sqlite, batch 1 | single-record messages, sets/s |" in table
    assert "| sqlite, batch 3 | sets/s |" in table


def test_a_later_round_leaves_out_a_party_known_in_another_role(ingest: ModuleType) -> None:
    keys = ingest.Keys(ingest.Server("http://127.0.0.1:9", None), "admin", None)
    keys.roles["3302955546"] = {"pay"}  # registered in an earlier round as a payment company
    assert keys.fit({"3302955546": ["pay"], "4403988704": ["agent"]})
    assert not keys.fit({"3302955546": ["ebc"]})  # roles are given at registration only


def test_the_errors_a_server_logged_are_listed_one_line_each(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    failed = {
        "event": "request.failed",
        "level": "error",
        "exception": "Traceback (most recent call last):\n  ...\nValueError: broken",
    }
    lines = [
        '{"event": "engine.leading", "level": "info"}',
        json.dumps(failed),
        "not JSON: uvicorn's own line",
        json.dumps({"event": "Exception in ASGI application\n", "level": "error"}),
    ]
    log.write_text("\n".join(lines) + "\n")
    assert ingest_log.logged_errors(log) == [
        "request.failed: ValueError: broken",
        "Exception in ASGI application",
    ]
    assert ingest_log.logged_errors(tmp_path / "missing.log") == []


def test_the_writes_a_server_took_again_are_counted_by_reason_from_a_load_on(
    tmp_path: Path,
) -> None:
    log = tmp_path / "server.log"
    retried = {"event": "write.retried", "level": "warning", "reason": "race", "attempt": 1}
    log.write_text(json.dumps(retried) + "\n")
    since = ingest_log.log_size(log)  # a load starts here: the line above is an earlier one's
    with log.open("a") as file:
        for reason in ("race", "deadlock", "race"):
            file.write(json.dumps(retried | {"reason": reason}) + "\n")
        file.write("not JSON\n" + json.dumps({"event": "request.failed", "level": "error"}))
    assert ingest_log.retried_writes(log, since) == {"race": 2, "deadlock": 1}
    assert ingest_log.retried_writes(log) == {"race": 3, "deadlock": 1}
    assert ingest_log.retried_writes(None) == {}
    assert ingest_log.log_size(tmp_path / "missing.log") == 0


class _Declarations:
    """States that turn final after two reads."""

    def __init__(self) -> None:
        self.reads = 0

    def states(self) -> dict[str, int]:
        self.reads += 1
        return {"clearance_ready": 2} if self.reads <= 2 else {"cleared": 2}


class _Sampler(ingest_watch.Sampler):
    """An outbox read from a list, one value a sample (the last one then on)."""

    def __init__(self, server: ingest_server.Server, outbox: list[float | None]) -> None:
        super().__init__(server, None)
        self.outbox = outbox

    def sample(self, client: httpx.Client) -> Sample:
        waiting = self.outbox.pop(0) if len(self.outbox) > 1 else self.outbox[0]
        taken = Sample(len(self.samples) + 1.0, None, None, waiting, 0)
        self.samples.append(taken)
        return taken


@LINUX
def test_the_drain_waits_for_the_outbox_and_counts_the_cpu_until_quiescent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest_watch.time, "sleep", lambda _: None)
    server = ingest_server.Server("http://127.0.0.1:9", os.getpid())
    ended = ingest_server.read_cpu(server)
    sampler = _Sampler(server, [5, 5, 5, 1, 0])
    declarations: Any = _Declarations()
    watched = ingest_watch.drain(sampler, declarations, 0.0, time.monotonic(), timeout_s=600)
    backlog = watched.backlog
    assert backlog is not None and declarations.reads == 5  # on until the outbox was empty
    assert backlog.left == {} and backlog.outbox_left == 0 and backlog.quiescent_s is not None
    load = Load(1, ingest_load.LoadResult(2, 8, 1.0, [1.0], {}, 0.25, 0.1, 8, None, ended))
    whole = whole_cost(load.result, watched)
    assert whole is not None and whole.server_s is not None and whole.server_s >= 0.25
    # A timeout first: not quiescent, and what was left is kept (the figure a lower bound).
    stuck = ingest_watch.drain(_Sampler(server, [3]), declarations, 0.0, 0.0, timeout_s=0.0)
    assert stuck.backlog is not None and stuck.backlog.quiescent_s is None
    assert stuck.backlog.outbox_left == 3


def test_the_scaling_ratio_is_until_quiescent_only_when_both_runs_got_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def run(window_s: float, whole_s: float, quiescent: bool) -> list[Measured]:
        result = ingest_load.LoadResult(10, 40, 1.0, [1.0], {}, window_s, 0.1, 40, 0.5)
        cpu = ingest_server.CpuReading(None, None)
        backlog = ingest_watch.Backlog({}, 0.0, 0.0, {}, 0, 1.0 if quiescent else None, cpu)
        watched = ingest_watch.Watched([], [], 1.0, backlog)
        return [Measured(Load(1, result), watched, ingest_server.CpuReading(whole_s, 2.0))]

    summary = ingest_targets.Summary()
    report_scaling([{1: run(1.0, 4.0, True), 2: run(2.0, 4.0, True)}], summary)
    out = capsys.readouterr().out
    assert "2.5 with 1, 2.5 with 2" in out and "(until quiescent;" in out
    report_scaling([{1: run(1.0, 4.0, True), 2: run(2.0, 5.0, False)}], summary)
    out = capsys.readouterr().out
    assert "10.0 with 1, 5.0 with 2" in out and "did not reach quiescence" in out
    # Rounds (--rounds): each one's ratio, and the target's pooled over them all; a round
    # that did not reach quiescence puts every round on the loads' windows.
    rounds = [{1: run(1.0, 4.0, True), 2: run(2.0, 5.0, True)},
              {1: run(1.0, 5.0, True), 2: run(2.0, 4.0, True)}]  # fmt: skip
    summary = ingest_targets.Summary()
    report_scaling(rounds, summary)
    out = capsys.readouterr().out
    assert "batch 1, round 1: 2.5 with 1, 2.0 with 2: 0.80×" in out
    assert "batch 1, round 2: 2.0 with 1, 2.5 with 2: 1.25×" in out
    assert "the 2 rounds pooled: 2.2 with 1, 2.2 with 2" in out  # 20 sets in 9 s each
    assert "1.00×" in summary.table()
    report_scaling([rounds[0], {1: run(1.0, 5.0, False), 2: run(2.0, 4.0, True)}], summary)
    out = capsys.readouterr().out
    assert "round 1: 10.0 with 1, 5.0 with 2" in out and "did not reach quiescence" in out


def test_the_floor_waits_for_a_busy_server_to_settle() -> None:
    """``settle`` waits while the server's processes are busy (a child that spins for a second,
    then sleeps) and gives up, saying so, on one that never stops."""
    spin = "import time\nend = time.monotonic() + {s}\nwhile time.monotonic() < end: pass\n"
    settling = subprocess.Popen([sys.executable, "-c", spin.format(s=1.0) + "time.sleep(30)"])
    spinning = subprocess.Popen([sys.executable, "-c", spin.format(s=30.0)])
    try:
        time.sleep(0.2)  # both running
        quiet = ingest_server.settle(ingest_server.Server("http://unused", settling.pid))
        assert quiet.startswith("quiet after ") and float(quiet.split()[2]) >= 0.5
        busy = ingest_server.settle(ingest_server.Server("http://unused", spinning.pid),
                                    timeout_s=2.0)  # fmt: skip
        assert busy.startswith("still ") and busy.endswith("busy after 2 s")
        unread = ingest_server.settle(ingest_server.Server("http://unused", None))  # --url
        assert unread.startswith("not watched")
    finally:
        for child in (settling, spinning):
            child.kill()
            child.wait()
