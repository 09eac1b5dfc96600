"""The scenario runner (``/scenarios``) and the conformance page (``/conformance``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from app.dashboard import conformance, jobs
from app.dashboard.access import dashboard_settings, require_access
from app.dashboard.deps import DatabaseDep
from app.dashboard.pages import not_found_page
from app.dashboard.templating import templates
from app.settings import Settings
from simulation.paths import shipped_scenarios
from simulation.sweep import parameter_paths, parse_vary

router = APIRouter(dependencies=[Depends(require_access)])

# What the form offers to change: the numeric capacities and pool sizes (any dotted path may
# still be typed; these are the ones a planner reaches for first).
_OFFERED = (".capacity", ".size")


@cache  # the shipped scenarios do not change while the service runs
def _parameter_choices() -> dict[str, list[str]]:
    choices: dict[str, list[str]] = {}
    for name in shipped_scenarios():
        try:
            paths = parameter_paths(jobs.load_shipped(name))
        except jobs.JobError:
            continue
        choices[name] = [p for p in paths if p.endswith(_OFFERED) and ".schedule." not in p]
    return choices


def _form_page(
    request: Request, database: Any, *, error: str | None = None, form: dict[str, str] | None = None
) -> HTMLResponse:
    choices = _parameter_choices()
    context = {
        "scenarios": list(choices),
        "choices": choices,
        "jobs": jobs.recent_jobs(database),
        "error": error,
        "form": form or {},
        "limits": dashboard_settings(request),
    }
    return templates.TemplateResponse(
        request, "scenarios.html.j2", context, status_code=400 if error else 200
    )


@router.get("/scenarios", response_class=HTMLResponse, include_in_schema=False)
def scenarios(request: Request, database: DatabaseDep) -> HTMLResponse:
    return _form_page(request, database)


def _overrides(parameter: str, value: str, more: str) -> dict[str, Any]:
    """``parameter`` = ``value`` plus one ``path=value`` per line of ``more`` (sweep syntax)."""
    lines = [f"{parameter.strip()}={value.strip()}"] if parameter.strip() and value.strip() else []
    lines += [line.strip() for line in more.splitlines() if line.strip()]
    overrides: dict[str, Any] = {}
    for line in lines:
        variation = parse_vary(line)  # SweepError (a ValueError) names the mistake
        if len(variation.values) != 1:
            raise jobs.JobError(f"{line!r}: give one value (a sweep varies several)")
        overrides[variation.path] = variation.values[0]
    return overrides


class JobForm(BaseModel):
    """The runner's form, as typed (numbers are checked by ``start_job`` with clear words)."""

    scenario: str
    replications: str = "3"
    seed: str = "1"
    horizon_hours: str = ""
    parameter: str = ""
    value: str = ""
    more: str = ""


@router.post("/scenarios", response_class=HTMLResponse, include_in_schema=False)
def start_job(
    request: Request, database: DatabaseDep, data: Annotated[JobForm, Form()]
) -> Response:
    try:
        job_request = jobs.JobRequest(
            scenario=data.scenario,
            replications=_integer(data.replications, "replications"),
            seed=_integer(data.seed, "seed"),
            horizon_hours=_number(data.horizon_hours, "the horizon"),
            overrides=_overrides(data.parameter, data.value, data.more),
        )
        job_id = jobs.submit(database, job_request, dashboard_settings(request))
    except ValueError as exc:  # JobError or SweepError: the message names the mistake
        return _form_page(request, database, error=str(exc), form=data.model_dump())
    runner: jobs.JobRunner | None = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        runner.wake()
    return RedirectResponse(f"/scenarios/jobs/{job_id}", status_code=303)


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise jobs.JobError(f"{name} must be a number of hours, not {text!r}") from None


def _integer(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise jobs.JobError(f"{name} must be a whole number, not {text!r}") from None


@router.get("/scenarios/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
def job_page(request: Request, job_id: int, database: DatabaseDep) -> HTMLResponse:
    job = jobs.get_job(database, job_id)
    if job is None:
        return not_found_page(request, f"scenario job {job_id}")
    context = {"job": job, "refresh_ms": dashboard_settings(request).refresh_ms}
    return templates.TemplateResponse(request, "job.html.j2", context)


@router.get("/scenarios/jobs/{job_id}/status.json", include_in_schema=False)
def job_json(job_id: int, database: DatabaseDep) -> JSONResponse:
    job = jobs.get_job(database, job_id)
    if job is None:
        return JSONResponse({"error": "no such job"}, status_code=404)
    return JSONResponse(jobs.job_summary(job))


def _output(request: Request, database: Any, job_id: int, name: str, media: str) -> Response:
    job = jobs.get_job(database, job_id)
    if job is None or job.state != jobs.DONE or not job.output_dir:
        return not_found_page(request, f"the report of scenario job {job_id}")
    path = Path(job.output_dir) / name
    if not path.is_file():
        return not_found_page(request, f"{name} of scenario job {job_id}")
    return FileResponse(path, media_type=media)


@router.get("/scenarios/jobs/{job_id}/report", include_in_schema=False)
def job_report(request: Request, job_id: int, database: DatabaseDep) -> Response:
    return _output(request, database, job_id, jobs.REPORT_FILE, "text/html; charset=utf-8")


@router.get("/scenarios/jobs/{job_id}/result.json", include_in_schema=False)
def job_result(request: Request, job_id: int, database: DatabaseDep) -> Response:
    return _output(request, database, job_id, jobs.RESULT_FILE, "application/json")


# --- conformance ---------------------------------------------------------------------------


@router.get("/conformance", response_class=HTMLResponse, include_in_schema=False)
def conformance_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "conformance.html.j2", {"checked": None, "xml": ""})


@router.post("/conformance", response_class=HTMLResponse, include_in_schema=False)
async def conformance_check(
    request: Request,
    xml: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    documents: list[tuple[str, bytes]] = []
    for number, part in enumerate(conformance.split_pasted(xml.encode("utf-8")), start=1):
        documents.append((f"pasted document {number}", part))
    for upload in files or []:
        if upload.filename:
            documents.append((upload.filename, await upload.read()))
    error = None
    if not documents:
        error = "paste XML or choose files first / 请粘贴XML或选择文件"
    elif sum(len(d) for _, d in documents) > settings.max_bundle_bytes:
        error = f"more than {settings.max_bundle_bytes} bytes: use `danchuang validate` / 内容过大"
    # Validation is CPU work: off the event loop, in the threadpool like a plain `def` route.
    checked = None if error else await run_in_threadpool(conformance.check, documents)
    context = {"checked": checked, "xml": xml, "error": error, "rule_title": conformance.rule_title}
    return templates.TemplateResponse(
        request, "conformance.html.j2", context, status_code=400 if error else 200
    )
