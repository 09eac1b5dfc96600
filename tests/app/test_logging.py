"""The console log of a failure shows its traceback, never its local variables: a request's
locals hold the caller's API key."""

from __future__ import annotations

import logging
import sys

import pytest
import structlog

from app.logging import configure_logging
from app.settings import Settings


def test_a_console_traceback_shows_no_local_variables(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    before = root.handlers[:]
    configure_logging(settings)  # the fixture's settings log to the console
    try:
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(sys.stderr)  # the stream capsys captures

        def handle(authorization: str) -> None:
            raise RuntimeError("boom")

        secret = "-".join(("the", "secret", "part"))  # not in the source lines shown
        try:
            handle(f"Bearer dck_0123abcd_{secret}")
        except RuntimeError:
            structlog.get_logger("test").exception("request failed")
        logged = capsys.readouterr().err
    finally:
        root.handlers[:] = before  # no handler left on capsys's stream
    assert "RuntimeError" in logged and "boom" in logged
    assert secret not in logged
