"""The CLI starts light: a command pays only for the core it uses.

Checked by which modules are loaded, never by timing: `danchuang validate` in a CI loop must not
load the simulation model, matplotlib or the database layer.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "scipy", "simpy", "sqlalchemy", "fastapi", "alembic", "dask")


def test_loading_the_cli_loads_no_heavy_library() -> None:
    probe = f"import sys, app.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []
