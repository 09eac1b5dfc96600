"""The scenario runner: requests checked up front, a tiny run end to end in the background
(a separate process), progress persisted, and the report served from the job's output."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.dashboard import jobs
from app.dashboard.config import DashboardSettings
from app.db import migrate
from app.db.engine import Database
from app.db.models_jobs import ScenarioJob
from simulation.paths import find_scenario
from simulation.scenario import load_scenario

SCENARIO = "ezhou-huahu"
LIMITS = DashboardSettings(_env_file=None)  # type: ignore[call-arg]


def tiny(**changes: object) -> dict[str, str]:
    """A form for a run of a few seconds: two replications, one hour past the warm-up."""
    warmup = load_scenario(find_scenario(SCENARIO)).warmup_hours
    form = {
        "scenario": SCENARIO,
        "replications": "2",
        "seed": "7",
        "horizon_hours": str(warmup + 1),
        "parameter": "resources.xray_lanes.capacity",
        "value": "3",
    }
    form.update({k: str(v) for k, v in changes.items()})
    return form


def test_a_request_is_applied_to_the_shipped_scenario() -> None:
    request = jobs.JobRequest(
        SCENARIO, 2, 1, None, {"resources.xray_lanes.capacity": 5, "lock_pools.huahu.size": 9}
    )
    scenario = jobs.prepare(request, LIMITS)
    assert scenario.resources["xray_lanes"].capacity == 5
    assert scenario.lock_pools["huahu"].size == 9
    assert SCENARIO in jobs.shipped_scenarios()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"scenario": "../../etc/passwd"}, "no shipped scenario named"),
        ({"replications": "0"}, "replications must be between 1 and"),
        ({"replications": "two"}, "replications must be a whole number"),
        ({"horizon_hours": "0.5"}, "the horizon must exceed the warm-up"),
        ({"parameter": "resources.xray_lane.capacity"}, "unknown parameter"),
        ({"value": "-1"}, "makes an invalid scenario"),
    ],
)
async def test_a_bad_request_is_refused_on_the_form(
    client: httpx.AsyncClient, database: Database, change: dict[str, str], words: str
) -> None:
    response = await client.post("/scenarios", data=tiny(**change))
    assert response.status_code == 400
    assert words in response.text
    with database.read() as session:
        assert session.scalars(select(ScenarioJob)).first() is None  # nothing was queued


@pytest.mark.slow  # spawns a worker process and renders a report (about 10 s)
async def test_a_tiny_scenario_runs_in_the_background_and_opens_its_report(
    client: httpx.AsyncClient,
) -> None:
    started = await client.post("/scenarios", data=tiny())
    assert started.status_code == 303
    page_url = started.headers["location"]
    job_id = int(page_url.rsplit("/", 1)[1])
    # The API stays responsive while the job runs (it runs in another process).
    assert (await client.get("/healthz")).status_code == 200
    status: dict[str, object] = {}
    deadline = time.monotonic() + 120
    seen_progress: set[int] = set()
    while time.monotonic() < deadline:
        status = (await client.get(f"{page_url}/status.json")).json()
        seen_progress.add(int(str(status["done"])))
        if status["state"] in (jobs.DONE, jobs.FAILED):
            break
        await asyncio.sleep(0.2)
    assert status["state"] == jobs.DONE, status
    assert status["done"] == status["total"] == 2
    assert seen_progress <= {0, 1, 2}

    page = (await client.get(page_url)).text
    assert 'id="open-report"' in page and "resources.xray_lanes.capacity" in page
    report = await client.get(f"{page_url}/report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert SCENARIO in report.text
    result = json.loads((await client.get(f"{page_url}/result.json")).text)
    assert result["replications"] == 2 and result["seed"] == 7
    listing = (await client.get("/scenarios")).text
    assert f'<tr id="job-{job_id}" data-state="done">' in listing and "2 / 2" in listing


@pytest.fixture
def bare_database(tmp_path: Path) -> Iterator[Database]:
    """A migrated database with no app (and so no job runner of its own) beside it."""
    database = Database.from_url(f"sqlite:///{tmp_path / 'jobs.db'}")
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def test_a_job_interrupted_by_a_restart_is_queued_again(bare_database: Database) -> None:
    database = bare_database
    with database.write() as session:
        session.add(
            ScenarioJob(
                scenario=SCENARIO,
                parameters=jobs.JobRequest(SCENARIO).parameters(),
                state=jobs.RUNNING,
                done=1,
                total=5,
            )
        )
    runner = jobs.JobRunner(database, LIMITS)
    assert runner.requeue_interrupted() == 1
    with database.read() as session:
        job = session.scalars(select(ScenarioJob)).one()
    assert (job.state, job.done) == (jobs.QUEUED, 0)


def test_a_job_that_fails_says_why(bare_database: Database, tmp_path: Path) -> None:
    """A queued job whose request became impossible fails with the reason, in the database."""
    database = bare_database
    settings = DashboardSettings(jobs_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with database.write() as session:
        bad = jobs.JobRequest(SCENARIO, 1, 1, None, {"resources.nowhere.capacity": 1})
        session.add(ScenarioJob(scenario=SCENARIO, parameters=bad.parameters(), total=1))
    runner = jobs.JobRunner(database, settings)
    job_id = runner.claim()
    assert job_id is not None
    runner._run(job_id)  # in this thread: no process is needed to find the mistake
    with database.read() as session:
        job = session.get(ScenarioJob, job_id)
    assert job is not None and job.state == jobs.FAILED
    assert job.error is not None and "unknown parameter" in job.error
