"""What the ingest benchmark reads in its servers' log (JSON lines, at WARNING): the errors
they logged (a 500 is a bug, whatever the figures) and the write transactions they took again
(``write.retried``: work redone because of a concurrent write, ``app.services.submission``)."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def log_size(log: Path | None) -> int:
    """Where the log ends now: the start of what a load will add."""
    return log.stat().st_size if log is not None and log.exists() else 0


def retried_writes(log: Path | None, since: int = 0) -> Counter[str]:
    """The writes taken again (``write.retried``) logged from byte ``since``, by reason."""
    return Counter(
        str(entry.get("reason")) for entry in _entries(log, since)
        if entry.get("event") == "write.retried"
    )  # fmt: skip


def logged_errors(log: Path) -> list[str]:
    """Each error entry as one line: its event and its exception's last line."""
    found = []
    for entry in _entries(log):
        if entry.get("level") in ("error", "critical"):
            exception = str(entry.get("exception", "")).strip().splitlines()
            event = str(entry.get("event", "")).strip()
            found.append(f"{event}: {exception[-1] if exception else ''}".strip(": "))
    return found


@contextmanager
def server_log(log: Path, lines: int = 40) -> Iterator[None]:
    """After the runs, the errors the servers logged; after a failed run, the log's last lines
    (its folder goes with the run)."""
    try:
        yield
    except BaseException:
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            print(f"\nthe last {len(tail)} lines of {log.name}:", *tail, sep="\n    ")
        raise
    errors = logged_errors(log)
    print(f"\nthe servers logged {len(errors)} error{'s' if len(errors) != 1 else ''}")
    for text, count in Counter(errors).most_common(5):
        print(f"    ×{count} {text}")
    if errors:  # the whole log outlives the run's folder, for the tracebacks
        kept = shutil.copy(log, tempfile.mkstemp(prefix="danchuang-ingest-", suffix=".log")[1])
        print(f"    the servers' log, kept: {kept}")


def _entries(log: Path | None, since: int = 0) -> Iterator[dict[str, Any]]:
    if log is None or not log.exists():
        return
    with log.open("rb") as file:
        file.seek(since)
        for line in file.read().decode(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                yield entry
