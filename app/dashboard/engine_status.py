"""The live clearance engine as the dashboard shows it: running or not, its virtual clock, and
how many declarations wait at each stage.

Two sources, so the page works whether the engine runs inside ``serve`` or in a separate
``danchuang worker``: the engine's lease row (``engine_leases``: who holds it, until when, and
the virtual clock at its last tick) says whether an engine runs anywhere and what time it is on
its clock; the queue lengths come from this process's Prometheus gauges, which the engine sets
every tick when it runs in this process (a worker's queues are on the worker's ``/metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app import metrics
from app.db.models import EngineLease
from app.engine.lease import ENGINE_NAME

_STAGE_PREFIX = "clearance_"


@dataclass(frozen=True)
class EngineStatus:
    running: bool
    owner: str | None = None
    sim_clock: datetime | None = None
    # stage -> declarations waiting there (empty when the engine runs in another process)
    queues: dict[str, int] = field(default_factory=dict)
    in_flight: int | None = None  # declarations inside the model right now


def _gauges() -> dict[str, int]:
    found: dict[str, int] = {}
    for metric in metrics.QUEUE_LENGTH.collect():
        for sample in metric.samples:
            queue = sample.labels.get("queue", "")
            if queue.startswith(_STAGE_PREFIX):
                found[queue.removeprefix(_STAGE_PREFIX)] = int(sample.value)
    return found


def read(session: Session, *, now: datetime | None = None) -> EngineStatus:
    now = now or datetime.now(UTC)
    row = session.get(EngineLease, ENGINE_NAME)
    if row is None or row.expires_at <= now:
        return EngineStatus(running=False)
    queues = _gauges()
    in_flight = queues.pop("in_flight", None)
    return EngineStatus(True, row.owner, row.sim_clock, queues, in_flight)
