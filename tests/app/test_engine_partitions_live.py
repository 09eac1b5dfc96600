"""Two real ``danchuang worker`` processes share the clearance engine's partitions on PostgreSQL.

Two API processes (``danchuang serve --no-engine --workers 2``) take a few hundred sample sets,
each document posted by the party that sends it in reality, while two workers with
``DANCHUANG_ENGINE_PARTITIONS=4`` clear them on a fast virtual clock. One worker is killed with
SIGKILL mid-run; the other takes its partitions over when their leases expire and finishes
everything. Every accepted declaration must end final, with no receipt stored twice and one
final decision each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from live_server import ADMIN, DANCHUANG, free_port, stop, wait_until_healthy
from postgres_support import throwaway_schema
from sqlalchemy import func, select

from app import accounts, states
from app.db import migrate
from app.db.engine import Database
from app.db.models import Declaration, Receipt, Role
from declarations import BY_ROOT, Direction, Kind, Regime
from declarations.samples import SampleSet, generate_sets, to_bytes

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SETS_PER_FLOW = 60  # four flows: 240 sets, 960 documents
FLOWS = [(Regime.DIRECT, Direction.IMPORT), (Regime.BONDED, Direction.IMPORT),
         (Regime.DIRECT, Direction.EXPORT), (Regime.B2B_DIRECT, Direction.EXPORT)]  # fmt: skip
ROLE_OF = {Kind.ORDER: Role("ebc"), Kind.PAYMENT: Role("pay"), Kind.WAYBILL: Role("logistics"),
           Kind.INVENTORY: Role("agent")}  # fmt: skip
FINAL_STATUSES = {100, 501, 502, 503, 599, 700, 899}


@pytest.fixture
def pg_url() -> Iterator[str]:
    with throwaway_schema() as url:
        yield url


def _environment(db_url: str, **extra: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")},
        "DANCHUANG_DATABASE_URL": db_url,
        "DANCHUANG_ADMIN_KEY": ADMIN,
        "DANCHUANG_LOG_FORMAT": "json",
        "DANCHUANG_ENGINE_LEASE_S": "2",
        "DANCHUANG_ENGINE_TICK_S": "0.1",
        "DANCHUANG_ENGINE_PARTITIONS": "4",
        **extra,
    }


@contextmanager
def _api(db_url: str, workdir: Path) -> Iterator[str]:
    """Two API processes, no engine in them; their base URL."""
    port = free_port()
    log = workdir / "api.log"
    process = subprocess.Popen(
        [str(DANCHUANG), "serve", "--port", str(port), "--workers", "2", "--no-engine"],
        cwd=workdir,
        env=_environment(db_url),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log, seconds=60)
        yield url
    finally:
        stop(process)


def _worker(db_url: str, workdir: Path, name: str) -> subprocess.Popen[bytes]:
    # 120x: a declaration takes some ten wall seconds, so many are in flight at the kill.
    return subprocess.Popen(
        [str(DANCHUANG), "worker"],
        cwd=workdir,
        env=_environment(db_url, DANCHUANG_CLOCK_SPEED="120"),
        stdout=(workdir / f"{name}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def _events(workdir: Path, name: str) -> list[dict[str, object]]:
    found = []
    for line in (workdir / f"{name}.log").read_text(errors="replace").splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            if str(event.get("event", "")).startswith("engine."):
                found.append(event)
    return found


def _register(database: Database, sets: list[SampleSet]) -> dict[str, str]:
    """Every party of the sets, registered in its roles; code -> API key."""
    roles: dict[str, set[Role]] = {}
    for sample in sets:
        for kind, code in _senders(sample).items():
            roles.setdefault(code, set()).add(ROLE_OF[kind])
    keys = {}
    with database.write() as session:
        for code, held in roles.items():
            row = accounts.create_enterprise(session, code=code, name=code, roles=sorted(held))
            keys[code] = accounts.issue_key(session, row)[1]
    return keys


def _senders(sample: SampleSet) -> dict[Kind, str]:
    deal = sample.deal
    return {Kind.ORDER: deal.seller.code, Kind.PAYMENT: deal.payer_company.code,
            Kind.WAYBILL: deal.carrier.code, Kind.INVENTORY: deal.agent.code}  # fmt: skip


def _send(url: str, keys: dict[str, str], sample: SampleSet) -> int:
    """A set's documents, each by its sender, in order; the declaration's id."""
    senders = _senders(sample)
    answer: dict[str, object] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for root in sample.documents.values():
            code = senders[BY_ROOT[root.tag.split("}")[1]].kind]
            sent = client.post(
                "/api/v1/documents",
                content=to_bytes(root),
                headers={
                    "Authorization": f"Bearer {keys[code]}",
                    "Content-Type": "application/xml",
                },
            )
            assert sent.status_code == 201, sent.text
            answer = sent.json()
    declaration = answer["declaration"]
    assert isinstance(declaration, dict), answer
    return int(declaration["id"])


def _count(database: Database, *where: object) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count(Declaration.id)).where(*where)) or 0)  # type: ignore[arg-type]


def _wait(
    condition: Callable[[], bool], seconds: float, what: str, logs: Callable[[], str]
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}\n{logs()}")


def test_two_workers_share_the_partitions_and_one_survives_the_other(
    pg_url: str, tmp_path: Path
) -> None:
    database = Database.from_url(pg_url)
    migrate.upgrade(database.engine)
    sets = [s for r, d in FLOWS for s in generate_sets(r, d, seed=1515, count=SETS_PER_FLOW)]
    keys = _register(database, sets)
    workers = {name: _worker(pg_url, tmp_path, name) for name in ("first", "second")}

    def logs() -> str:
        return "\n".join(
            (tmp_path / f"{n}.log").read_text(errors="replace")[-2500:] for n in (*workers, "api")
        )

    final = Declaration.state.in_(states.FINAL_STATES)
    try:
        with _api(pg_url, tmp_path) as url, ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda sample: _send(url, keys, sample), sets))
        assert len(set(ids)) == len(sets)
        # Both workers clear: each holds two partitions (the first gave up its surplus).
        _wait(lambda: _count(database, final) >= len(ids) // 10, 120, "first clearances", logs)
        clearing = _count(database, Declaration.state == states.CLEARING)
        led = {n: {e["lease"] for e in _events(tmp_path, n) if e["event"] == "engine.leading"}
               for n in workers}  # fmt: skip
        assert all(led.values()), logs()
        workers["first"].send_signal(signal.SIGKILL)
        workers["first"].wait(10)
        at_kill = _count(database, final)
        assert at_kill < len(ids) and clearing, "nothing in flight at the kill: slow the clock"
        _wait(lambda: _count(database, final) == len(ids), 240, f"all {len(ids)} final", logs)
    finally:
        for process in workers.values():
            if process.poll() is None:
                stop(process)

    # The survivor took the dead one's partitions over and recovered what it had in flight.
    survivor = _events(tmp_path, "second")
    taken = {e["lease"] for e in survivor if e["event"] == "engine.leading"}
    assert taken == {"clearance", "clearance.1/4", "clearance.2/4", "clearance.3/4"}, logs()
    assert sum(int(e.get("recovered", 0)) for e in survivor) > 0, logs()  # type: ignore[call-overload]

    with database.read() as session:
        rows = session.execute(
            select(
                Receipt.declaration_id, Receipt.message_code, Receipt.return_status, Receipt.seq
            ).where(Receipt.declaration_id.in_(ids))
        ).all()
    database.dispose()
    # No receipt stored twice (a message code and status once per declaration, seqs unique)...
    twice = [k for k, n in Counter((d, c, s) for d, c, s, _ in rows).items() if n > 1]
    assert twice == []
    assert len({(d, seq) for d, _c, _s, seq in rows}) == len(rows)
    # ... and each declaration decided once: exactly one final 清单 receipt.
    decided = Counter(
        d for d, code, status, _ in rows
        if code in ("CEB622", "CEB604") and (status in FINAL_STATUSES or status < 0)
    )  # fmt: skip
    assert decided == Counter(ids)
    print(f"{len(ids)} declarations, {at_kill} final at the kill, {clearing} clearing before it")
