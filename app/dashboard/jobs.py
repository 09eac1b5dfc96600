"""Scenario jobs for the web: a planner's run, in the background, with its state in the database.

A job is a ``scenario_jobs`` row (``queued`` → ``running`` → ``done`` / ``failed``), so a page
reload or another browser sees the same progress. ``JobRunner`` is one thread owned by the app
(started and stopped by the dashboard's lifespan): it claims the oldest queued job and hands the
replications to a ``ProcessPoolExecutor`` — SimPy is CPU-bound pure Python, so it never runs on
the event loop nor in the API's threads. The thread only waits on futures
and writes progress; the report is rendered in the pool as well (matplotlib is not cheap).

Only shipped scenarios may be run from the web (never a path typed into a form), changed with
the same dotted-path overrides as ``danchuang sweep --vary`` (``simulation.sweep``).

A job interrupted by a restart is queued again when the runner starts and runs from the start:
results depend only on (scenario, overrides, seed), so the rerun gives the same numbers.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import CancelledError, Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select, update

from app.dashboard.config import DashboardSettings
from app.db.engine import Database
from app.db.models_jobs import ScenarioJob
from simulation.paths import find_scenario, shipped_scenarios
from simulation.runner import RunResult, run
from simulation.scenario import Scenario, ScenarioError, load_scenario
from simulation.sweep import Scalar, SweepError, apply_overrides

log = structlog.get_logger("danchuang.dashboard.jobs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
REPORT_FILE, RESULT_FILE = "report.html", "result.json"


class JobError(ValueError):
    """A job request that cannot run; the message is shown on the form as it is."""


@dataclass(frozen=True)
class JobRequest:
    scenario: str  # a shipped scenario's name, e.g. "ezhou-huahu"
    replications: int = 5
    seed: int = 1
    horizon_hours: float | None = None  # None = the scenario's own
    overrides: dict[str, Scalar] = field(default_factory=dict)  # dotted path -> value

    def parameters(self) -> dict[str, Any]:
        return {
            "replications": self.replications,
            "seed": self.seed,
            "horizon_hours": self.horizon_hours,
            "overrides": self.overrides,
        }

    @classmethod
    def of(cls, job: ScenarioJob) -> JobRequest:
        p = job.parameters
        return cls(job.scenario, p["replications"], p["seed"], p["horizon_hours"], p["overrides"])


def load_shipped(name: str) -> Scenario:
    if name not in shipped_scenarios():
        raise JobError(f"no shipped scenario named {name!r}")
    try:
        return load_scenario(find_scenario(name))
    except (FileNotFoundError, ScenarioError) as exc:
        raise JobError(str(exc)) from None


def prepare(request: JobRequest, limits: DashboardSettings) -> Scenario:
    """The scenario the job will run, checked; ``JobError`` names what is wrong."""
    if not 1 <= request.replications <= limits.max_replications:
        raise JobError(f"replications must be between 1 and {limits.max_replications}")
    scenario = load_shipped(request.scenario)
    try:
        scenario = apply_overrides(scenario, request.overrides)
    except SweepError as exc:
        raise JobError(str(exc)) from None
    horizon = request.horizon_hours
    if horizon is not None and not scenario.warmup_hours < horizon <= limits.max_horizon_hours:
        raise JobError(
            f"the horizon must exceed the warm-up ({scenario.warmup_hours} h) "
            f"and be at most {limits.max_horizon_hours} h"
        )
    return scenario


def submit(database: Database, request: JobRequest, limits: DashboardSettings) -> int:
    """Check the request and queue it; the new job's id."""
    prepare(request, limits)
    with database.write() as session:
        job = ScenarioJob(
            scenario=request.scenario,
            parameters=request.parameters(),
            state=QUEUED,
            done=0,
            total=request.replications,
        )
        session.add(job)
        session.flush()
        return job.id


def write_outputs(result: RunResult, scenario: Scenario, folder: Path) -> None:
    """Write the results (JSON) and the HTML report; runs in a pool process."""
    from app.report import write_report  # noqa: PLC0415  # matplotlib only in the workers

    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULT_FILE).write_text(result.to_json(), encoding="utf-8")
    write_report(result, scenario, folder / REPORT_FILE)


class JobRunner:
    """Claims queued jobs one at a time and runs them on a process pool."""

    def __init__(
        self, database: Database, settings: DashboardSettings, *, poll_s: float = 2.0
    ) -> None:
        self.database = database
        self.settings = settings
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scenario-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._pool is not None:
            # Queued replications are cancelled; the job goes back to the queue (see _run).
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._pool = None

    def requeue_interrupted(self) -> int:
        with self.database.write() as session:
            result = session.execute(
                update(ScenarioJob)
                .where(ScenarioJob.state == RUNNING)
                .values(state=QUEUED, done=0, started_at=None)
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def _executor(self) -> Executor:
        # Created at the first job, so that an app that never runs one spawns no process.
        # "spawn": the API process has threads, and forking a threaded process is unsafe.
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.settings.job_workers, mp_context=context)
        return self._pool

    # --- the loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        requeued = False
        last_error = ""
        while not self._stop.is_set():
            # In the loop, not in start(): a service whose schema is behind (migrate_on_start
            # off) or whose database is briefly away must still start; the runner waits.
            try:
                if not requeued:
                    self.requeue_interrupted()
                    requeued = True
                job_id = self.claim()
                last_error = ""
            except Exception as exc:
                if str(exc) != last_error:  # say it once, not every poll
                    log.warning("jobs.database_unavailable", error=str(exc).splitlines()[0])
                    last_error = str(exc)
                job_id = None
            if job_id is not None:
                self._run(job_id)
                continue
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def claim(self) -> int | None:
        """Take the oldest queued job (``SKIP LOCKED`` on PostgreSQL; SQLite has one writer)."""
        # Look first with a reader: an idle runner must not take SQLite's write lock every poll.
        with self.database.read() as session:
            waiting = session.scalar(
                select(ScenarioJob.id).where(ScenarioJob.state == QUEUED).limit(1)
            )
        if waiting is None:
            return None
        with self.database.write() as session:
            job = session.scalar(
                select(ScenarioJob)
                .where(ScenarioJob.state == QUEUED)
                .order_by(ScenarioJob.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if job is None:
                return None
            job.state, job.started_at, job.done = RUNNING, datetime.now(UTC), 0
            job.output_dir = str(self.settings.jobs_dir.resolve() / f"job-{job.id}")
            return job.id

    def _run(self, job_id: int) -> None:
        with self.database.read() as session:
            job = session.get(ScenarioJob, job_id)
            assert job is not None
            request, folder = JobRequest.of(job), Path(job.output_dir or ".")
        try:
            scenario = prepare(request, self.settings)
            executor = self._executor()
            result = run(
                scenario,
                request.replications,
                request.seed,
                executor=executor,
                progress=lambda done, _total: self._progress(job_id, done),
                horizon_hours=request.horizon_hours,
            )
            executor.submit(write_outputs, result, scenario, folder).result()
        except JobError as exc:
            self._finish(job_id, FAILED, str(exc))
            return
        except (Exception, CancelledError) as exc:
            if self._stop.is_set():  # shut down mid-run (replications cancelled): rerun later
                self._finish(job_id, QUEUED, None)
                return
            log.exception("jobs.failed", job=job_id)
            if isinstance(exc, BrokenProcessPool):  # a worker died (e.g. out of memory)
                self._pool = None  # the next job gets a fresh pool
            self._finish(job_id, FAILED, f"the run failed: {type(exc).__name__}: {exc}")
            return
        self._finish(job_id, DONE, None)
        log.info("jobs.done", job=job_id, scenario=request.scenario)

    def _progress(self, job_id: int, done: int) -> None:
        with self.database.write() as session:
            session.execute(
                update(ScenarioJob)
                .where(ScenarioJob.id == job_id)
                .values(done=done)
                .execution_options(synchronize_session=False)
            )

    def _finish(self, job_id: int, state: str, error: str | None) -> None:
        with self.database.write() as session:
            job = session.get(ScenarioJob, job_id)
            if job is None:
                return
            job.state, job.error = state, error
            job.finished_at = datetime.now(UTC) if state != QUEUED else None
            if state == QUEUED:
                job.done, job.started_at = 0, None


def job_summary(job: ScenarioJob) -> dict[str, Any]:
    """The job as the job page's polling script reads it."""
    return {
        "id": job.id,
        "scenario": job.scenario,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "error": job.error,
        "parameters": job.parameters,
        "report": job.state == DONE,
    }


def recent_jobs(database: Database, limit: int = 20) -> list[ScenarioJob]:
    with database.read() as session:
        return list(
            session.scalars(select(ScenarioJob).order_by(ScenarioJob.id.desc()).limit(limit))
        )


def get_job(database: Database, job_id: int) -> ScenarioJob | None:
    with database.read() as session:
        return session.get(ScenarioJob, job_id)
