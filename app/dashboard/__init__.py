"""The web dashboard: server-rendered pages (Jinja2) over the service's database.

- ``/`` the live sandbox: declarations by regime and state, recent receipts, the engine's
  virtual clock and queues, refreshing itself;
- ``/declarations/{id}``: a set's documents and its full message history, receipts as CEB XML;
- ``/scenarios``: run a shipped scenario in the background (``app.dashboard.jobs``) and open
  its report;
- ``/conformance``: validate pasted or uploaded XML, findings beside the numbered lines;
- ``/error-codes``: every rule id and receipt status, in English and Chinese;
- ``/certificates``: enterprises' signing certificates; register one, or issue a test one;
- ``/parties``: who sends the carrier's and the site's messages (danchuang, or a real party);
- ``/account-books``: the bonded account books, their stock and moves; register one;
- ``/summaries``: the export summary declarations, their 报关单 and summary results (CEB792).

No build step and nothing from the network: one stylesheet and one small script under
``static/``. ``router`` carries a lifespan (FastAPI merges it into the app's, inside it, so the
database is open) that starts and stops the scenario job runner. Access: ``app.dashboard.config``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from app.dashboard import account_books, certificates, pages, real_senders, summaries, tools
from app.dashboard.config import DashboardSettings
from app.dashboard.jobs import JobRunner
from app.dashboard.templating import static_files

__all__ = ["router", "static_files"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # A test (or an embedding app) may set its own settings on app.state before starting.
    if getattr(app.state, "dashboard_settings", None) is None:
        app.state.dashboard_settings = DashboardSettings()
    runner = JobRunner(app.state.database, app.state.dashboard_settings)
    runner.start()
    app.state.job_runner = runner
    try:
        yield
    finally:
        runner.stop()


router = APIRouter(lifespan=_lifespan)
router.include_router(pages.router)
router.include_router(tools.router)
router.include_router(certificates.router)
router.include_router(real_senders.router)
router.include_router(account_books.router)
router.include_router(summaries.router)
