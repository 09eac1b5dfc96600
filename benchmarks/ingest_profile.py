"""Where the ingest benchmark's time goes: the route's own work (``submission.submit_document``)
in this process on SQLite, without HTTP, unprofiled and then under cProfile (``--profile``)."""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
import time

from benchmarks.ingest_load import Submission, as_submission, parties
from declarations.samples import SampleSet

# The parts of a submission, as (label, module path suffix, function name) of pstats entries;
# their cumulative times are shown per set. Parts nest: the write transaction holds the rest.
PARTS = [
    ("submit_document (all of it)", "app/services/submission.py", "submit_document"),
    ("  parse + identify", "declarations/pipeline.py", "parse_step"),
    ("  identify", "declarations/pipeline.py", "identify_step"),
    ("  schema (XSD)", "declarations/pipeline.py", "schema_step"),
    ("  business rules", "declarations/pipeline.py", "rules_step"),
    ("  write transaction (_take)", "app/services/submission.py", "_take"),
    ("    resend check (guid)", "app/services/submission.py", "_repeat"),
    ("    lifecycle (held document)", "app/services/submission.py", "_lifecycle"),
    ("    set: attach", "app/services/sets.py", "attach"),
    ("    receipts + outbox", "app/receipts.py", "record_receipts"),
    ("    set: advance (reconcile, quota)", "app/services/sets.py", "advance"),
    ("  commit", "sqlalchemy/orm/session.py", "commit"),
]


def profile_in_process(sets: list[SampleSet], top: int = 25) -> None:
    """The route's own work (``submission.submit_document``) on SQLite, without HTTP: its rate
    unprofiled, then under cProfile with the CPU per set of each part."""
    work = [as_submission(s) for s in sets]
    half = len(work) // 2
    rate = _submit_in_process(sets, work[:half], None)
    profiler = cProfile.Profile()
    profiled_rate = _submit_in_process(sets, work[half:], profiler)
    print(
        f"\nin-process submit_document, SQLite, no HTTP: {rate:.1f} sets/s "
        f"({1000 / rate:.2f} ms per set); under cProfile {profiled_rate:.1f} sets/s"
    )
    stats = pstats.Stats(profiler)
    by_name: dict[tuple[str, str], float] = {}
    for (filename, _line, function), entry in stats.stats.items():  # type: ignore[attr-defined]
        for _label, suffix, name in PARTS:
            if function == name and filename.endswith(suffix):
                by_name[(suffix, name)] = by_name.get((suffix, name), 0.0) + entry[3]
    # Scaled to the unprofiled rate: cProfile slows Python code more than C, so read the
    # shares as rough.
    scale = profiled_rate / rate
    print(f"CPU per set by part (profiled times x {scale:.2f}):")
    count = len(work) - half
    for label, suffix, name in PARTS:
        seconds = by_name.get((suffix, name), 0.0) * scale
        print(f"  {label:<38} {seconds / count * 1000:7.2f} ms")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(15)  # the leaves: driver, ORM, lxml, ...
    print(out.getvalue())


def _submit_in_process(
    sets: list[SampleSet], work: list[Submission], profiler: cProfile.Profile | None
) -> float:
    """Submit ``work`` through a fresh SQLite database; sets per second (wall clock)."""
    from app import accounts  # noqa: PLC0415
    from app.accounts import Principal  # noqa: PLC0415
    from app.db import migrate  # noqa: PLC0415
    from app.db.engine import Database  # noqa: PLC0415
    from app.db.models import Role  # noqa: PLC0415
    from app.services import submission  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        database = Database.from_url(f"sqlite:///{folder}/profile.db")
        migrate.upgrade(database.engine)
        principals: dict[str, Principal] = {}
        with database.write() as session:
            for code, roles in parties(sets).items():
                row = accounts.create_enterprise(
                    session, code=code, name=code, roles=[Role(r) for r in roles]
                )
                session.flush()
                principals[code] = Principal.of(row)
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for item in work:
            for code, xml in item.documents:
                submission.submit_document(database, principals[code], xml, regime=None)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - started
        database.dispose()
    return len(work) / elapsed
