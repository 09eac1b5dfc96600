"""Where the project's own schemas live: the checkout's ``xsd/`` or the wheel's copy of it."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def xsd_root() -> Path:
    """The folder holding ``common/`` and one folder per regime.

    ``DANCHUANG_XSD_DIR`` overrides; otherwise the copy inside an installed wheel
    (``declarations/_data/xsd``) or the checkout's top-level ``xsd/``.
    """
    override = os.environ.get("DANCHUANG_XSD_DIR")
    candidates = [Path(override)] if override else []
    candidates += [_HERE / "_data" / "xsd", _HERE.parent / "xsd"]
    for candidate in candidates:
        if (candidate / "common").is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"danchuang's XSD folder was not found (looked in {searched})")
