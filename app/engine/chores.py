"""What an engine does beside clearing: the incomplete-set sweep and its Prometheus gauges."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import structlog

from app import metrics
from app.db.engine import Database
from app.services import expiry
from simulation.model import ClearanceModel
from simulation.scenario import StageName

log = structlog.get_logger("danchuang.engine")


def sweep_incomplete_sets(database: Database, window: timedelta) -> None:
    """Refuse the sets left incomplete past ``window`` (``app.services.expiry``)."""
    try:
        refused = expiry.expire_incomplete_sets(database, now=datetime.now(UTC), window=window)
    except Exception:  # the expiry's trouble must not stop (and replay) the clearance
        # The log event names (engine.sweep_failed, engine.swept_incomplete_sets) are kept:
        # operators may match on them.
        log.exception("engine.sweep_failed")
        return
    if refused:
        log.info("engine.swept_incomplete_sets", declarations=refused)


def report(lag: float, in_flight: int, models: Iterable[ClearanceModel]) -> None:
    """Set the engine's gauges: its clock lag, the declarations in its models and the queue
    at each stage, summed over ``models`` (one per partition this process runs)."""
    metrics.CLOCK_LAG.set(lag)
    metrics.QUEUE_LENGTH.labels(queue="clearance_in_flight").set(in_flight)
    queues: dict[str, int] = {}
    for model in models:
        for name, stage in model.stages.items():
            label = f"clearance_{StageName(name).value}"
            queues[label] = queues.get(label, 0) + int(stage.queue.value)
    for label, waiting in queues.items():
        metrics.QUEUE_LENGTH.labels(queue=label).set(waiting)
