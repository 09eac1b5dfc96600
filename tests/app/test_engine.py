"""The clearance engine in ``instant`` mode: declarations to their final state, receipts in the
lifecycle's order, idempotent recording, recovery, metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_engine_support import (
    instant_engine,
    make_ready,
    receipt_codes,
    state_of,
    statuses,
)

from app import metrics, states
from app.db import migrate
from app.db.engine import Database
from app.db.models import Declaration, Receipt
from app.engine import ClearanceEngine, EngineSettings, lease, store
from app.engine import engine as engine_module
from app.engine.store import Pickup

FLOWS = [("9610", "import"), ("1210", "import"), ("9610", "export"), ("9710", "export"),
         ("9810", "export")]  # fmt: skip


def _is_lifecycle(path: list[int]) -> bool:
    """120 → [300] → 399 → [500] → 800 → 899 (the happy branches), nothing else."""
    expected = [120, *([300] if 300 in path else []), 399, *([500] if 500 in path else [])]
    return path == [*expected, 800, 899]


@pytest.mark.parametrize(("regime", "direction"), FLOWS)
def test_a_ready_declaration_is_released_and_closed(
    database: Database, regime: str, direction: str
) -> None:
    ident = make_ready(database, regime, direction, forced="RELEASE")
    engine = instant_engine(database)
    assert engine.run_until_idle() == 4
    assert statuses(database, ident) == [120, 399, 800, 899]
    assert state_of(database, ident) == (states.CLEARED, 899)
    # an import's release also issues its tax bill (CEB816), summed at once in instant mode
    imported = {"CEB622", "CEB816", "CEB818"}
    assert receipt_codes(database, ident) == ({"CEB604"} if direction == "export" else imported)


def test_unforced_declarations_follow_the_lifecycle_order(database: Database) -> None:
    # Low-credit declarations of the built-in site see review and inspection often.
    idents = [make_ready(database, "9610", "import", credit_class="low_credit") for _ in range(30)]
    engine = instant_engine(database)
    engine.run_until_idle()
    finals = {}
    for ident in idents:
        path = statuses(database, ident)
        state, last = state_of(database, ident)
        assert state in states.FINAL_STATES
        assert last == path[-1]
        if state == states.CLEARED:
            assert _is_lifecycle(path), path
        else:  # detained or returned after inspection
            assert path[-2] == 500 and path[-1] in {501, 502, 503, 599, 700}, path
        finals[ident] = path
    paths = set(map(tuple, finals.values()))
    assert len(paths) > 1, "30 low-credit declarations should not all take one branch"


def test_receipts_carry_simulated_and_wall_time_in_order(database: Database) -> None:
    ident = make_ready(database, "9610", "export", forced="INSPECT")
    instant_engine(database).run_until_idle()
    with database.read() as session:
        rows = list(
            session.scalars(
                select(Receipt).where(Receipt.declaration_id == ident).order_by(Receipt.seq)
            )
        )
        declaration = session.get(Declaration, ident)
    assert [r.return_status for r in rows] == [120, 399, 500, 800, 899]
    sim_times = [r.sim_time for r in rows]
    assert all(t is not None for t in sim_times)
    assert sim_times == sorted(sim_times)  # type: ignore[type-var]
    assert sim_times[-1] > sim_times[0]  # type: ignore[operator]
    assert declaration is not None and declaration.sim_updated_at == sim_times[-1]
    assert all(r.created_at is not None for r in rows)


def test_the_same_declaration_takes_the_same_path_on_every_engine(database: Database) -> None:
    engine_a = instant_engine(database, seed=7)
    engine_b = instant_engine(database, seed=7)
    engine_c = instant_engine(database, seed=8)
    pickups = [Pickup(i, "9610", "import", "low_credit", None) for i in range(1, 200)]
    paths_a = [engine_a.outcome_of(p) for p in pickups]
    assert paths_a == [engine_b.outcome_of(p) for p in pickups]
    assert paths_a != [engine_c.outcome_of(p) for p in pickups]


def test_recording_twice_stores_each_receipt_once(database: Database) -> None:
    ident = make_ready(database, "9610", "import", state=states.CLEARING)
    engine = instant_engine(database)
    when = engine.sim_datetime()
    batch = [
        store.Transition(ident, "import", 120, when),
        store.Transition(ident, "import", 399, when),
    ]
    with database.write() as session:
        assert store.record(session, batch) == 2
    with database.write() as session:
        assert store.record(session, batch) == 0
    assert statuses(database, ident) == [120, 399]


def test_a_restarted_engine_finishes_in_flight_declarations_without_repeats(
    database: Database,
) -> None:
    # The first engine took the declarations and recorded part of their path, then "died"
    # (never ticked again). Its successor takes over and finishes them.
    idents = [make_ready(database, "9610", "import", forced="INSPECT") for _ in range(3)]
    first = instant_engine(database, lease_s=1.0, tick_s=0.1)
    assert first._become_leader()
    with database.write() as session:
        taken = store.take_ready(session, 10, first.sim_datetime())
        assert [p.declaration_id for p in taken] == idents
        store.record(
            session,
            [store.Transition(i, "import", s, first.sim_datetime()) for i in idents
             for s in (120, 399)],
        )  # fmt: skip
    from app.engine import lease  # noqa: PLC0415

    lease.release(database, first.owner)  # as if its lease had expired
    second = instant_engine(database)
    second.run_until_idle()
    assert second.recovered == 3
    for ident in idents:
        assert statuses(database, ident) == [120, 399, 500, 800, 899]
        assert state_of(database, ident)[0] == states.CLEARED


def test_declarations_not_ready_are_left_alone(database: Database) -> None:
    waiting = make_ready(database, "9610", "import", state="incomplete")
    instant_engine(database).run_until_idle()
    assert statuses(database, waiting) == []
    assert state_of(database, waiting) == ("incomplete", None)


def test_metrics_count_receipts_and_report_the_queues(database: Database) -> None:
    labels = {"message": "CEB622", "status": "899"}
    before = metrics.REGISTRY.get_sample_value("danchuang_receipts_total", labels) or 0.0
    make_ready(database, "1210", "import", forced="RELEASE")
    instant_engine(database).run_until_idle()
    after = metrics.REGISTRY.get_sample_value("danchuang_receipts_total", labels)
    assert after == before + 1
    text = metrics.exposition().decode()
    assert 'danchuang_queue_length{queue="clearance_in_flight"} 0.0' in text
    assert 'danchuang_queue_length{queue="clearance_audit"}' in text
    assert "danchuang_clock_lag_seconds 0.0" in text


def test_many_declarations_in_one_tick(database: Database) -> None:
    for _ in range(40):
        make_ready(database, "9610", "import", forced="RELEASE")
    engine = instant_engine(database, batch_size=25)
    engine.run_until_idle()
    with database.read() as session:
        lists = select(func.count()).where(Receipt.message_code == "CEB622")
        assert session.scalar(lists) == 160  # 120, 399, 800, 899 each
        bills = select(func.count()).where(Receipt.message_code.in_(("CEB816", "CEB818")))
        assert session.scalar(bills) == 80  # each release's tax bill, issued and summed
        left = session.scalar(select(func.count()).where(Declaration.state != states.CLEARED))
    assert left == 0


async def test_the_service_lifespan_runs_the_engine(database: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """`serve`'s app starts the engine with the background work and stops it on shutdown."""
    from app.main import create_app  # noqa: PLC0415

    ident = make_ready(database, "9610", "export", forced="REVIEW")
    live = settings.model_copy(update={"run_background_in_api": True, "clock_speed": "instant"})
    app = create_app(live)
    app.state.engine_settings = EngineSettings(_env_file=None, tick_s=0.05)  # type: ignore[call-arg]
    async with app.router.lifespan_context(app):
        assert app.state.engine_status == "running"
        deadline = time.monotonic() + 20
        while state_of(database, ident)[0] != states.CLEARED and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    assert app.state.engine_status == "stopped"
    assert statuses(database, ident) == [120, 300, 399, 800, 899]
    assert lease.holder(database) is not None


@pytest.mark.slow
def test_the_worker_command_runs_the_engine(db_url: str, tmp_path: Path) -> None:
    """`danchuang worker` clears declarations without the API, and stops on SIGTERM."""
    db = Database.from_url(db_url)
    migrate.upgrade(db.engine)
    ident = make_ready(db, "9710", "export", forced="INSPECT")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env |= {"DANCHUANG_DATABASE_URL": db_url, "DANCHUANG_CLOCK_SPEED": "instant",
            "DANCHUANG_ENGINE_TICK_S": "0.05"}  # fmt: skip
    worker = subprocess.Popen(  # our own entry point
        [str(Path(sys.executable).with_name("danchuang")), "worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while state_of(db, ident)[0] != states.CLEARED and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err.decode()
    assert statuses(db, ident) == [120, 399, 500, 800, 899]
    db.dispose()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DANCHUANG_ENGINE_SCENARIO", "nowhere", "DANCHUANG_ENGINE_SCENARIO: no scenario file"),
        ("DANCHUANG_ENGINE_LEASE_S", "-1", "DANCHUANG_ENGINE_LEASE_S: Input should be greater"),
        ("DANCHUANG_ENGINE_TICK_S", "100", "must be under a third of DANCHUANG_ENGINE_LEASE_S"),
    ],
)
def test_bad_engine_settings_are_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, message: str
) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from app.cli import cli  # noqa: PLC0415

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("DANCHUANG_DATABASE_URL", f"sqlite:///{tmp_path}/unused.db")
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_shipped_scenarios_work_live(database: Database) -> None:
    """A shipped scenario drives the engine too (DANCHUANG_ENGINE_SCENARIO)."""
    ident = make_ready(database, "9610", "import", forced="INSPECT")
    export = make_ready(database, "9610", "export", forced="RELEASE")
    instant_engine(database, scenario="ezhou-huahu").run_until_idle()
    assert statuses(database, ident)[-3:] == [500, 800, 899]
    assert statuses(database, export)[-2:] == [800, 899]


def test_the_model_day_starts_at_midnight_china_time(database: Database) -> None:
    """Shifts are hours of the model's day: its time 0 is the last midnight in China."""
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415

    engine = instant_engine(database)
    now = datetime.now(UTC)
    assert abs((engine.sim_datetime() - now).total_seconds()) < 5
    china = engine.sim_base.astimezone(engine_module.CHINA_TIME)
    assert (china.hour, china.minute, china.second) == (0, 0, 0)
    assert timedelta(0) <= now - engine.sim_base < timedelta(days=1)


async def test_api_only_runs_no_engine(database: Database, settings) -> None:  # type: ignore[no-untyped-def]
    """`serve --no-engine` (run_background_in_api off): declarations wait for a worker."""
    from app.main import create_app  # noqa: PLC0415

    ident = make_ready(database, "9610", "import", forced="RELEASE")
    app = create_app(settings)  # the fixture's settings have the background work off
    async with app.router.lifespan_context(app):
        assert app.state.engine_status == "off"
        assert app.state.clearance_engine is None
        await asyncio.sleep(0.3)
    assert state_of(database, ident) == (states.CLEARANCE_READY, None)
    assert lease.holder(database) is None


def test_the_engine_runs_the_incomplete_set_sweep(database: Database) -> None:
    """Sets left incomplete past the window are refused by the lease holder's sweep."""
    from datetime import timedelta  # noqa: PLC0415

    stale = make_ready(database, "9610", "import", state="incomplete")
    config = EngineSettings(_env_file=None)  # type: ignore[call-arg]
    standby = ClearanceEngine(
        database, clock_speed="instant", config=config, incomplete_window=timedelta(0)
    )
    leader = instant_engine(database)
    leader.run_once()
    standby.run_once()  # not the lease holder: no sweep
    assert state_of(database, stale)[0] == "incomplete"
    leader.incomplete_window = timedelta(0)
    leader.run_once()
    assert state_of(database, stale)[0] == states.REJECTED
