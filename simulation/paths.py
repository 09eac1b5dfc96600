"""Where the shipped scenario files live: the checkout's ``scenarios/`` or the wheel's copy."""

from __future__ import annotations

import difflib
import os
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


@cache
def scenarios_root() -> Path:
    """``DANCHUANG_SCENARIOS_DIR``, else the wheel's ``simulation/_data/scenarios``, else the
    checkout's top-level ``scenarios/``."""
    override = os.environ.get("DANCHUANG_SCENARIOS_DIR")
    candidates = [Path(override)] if override else []
    candidates += [_HERE / "_data" / "scenarios", _HERE.parent / "scenarios"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"danchuang's scenarios folder was not found (looked in {searched})")


def shipped_scenarios() -> list[str]:
    """The names of the scenarios shipped with danchuang, sorted (``ezhou-huahu``, ...)."""
    return sorted(p.stem for p in scenarios_root().glob("*.yaml"))


def find_scenario(name: str) -> Path:
    """A scenario by path, or by name among the shipped ones (``ezhou-huahu`` or ``.yaml``).

    ``FileNotFoundError`` otherwise, suggesting the nearest shipped name (a typo, or the start
    of one: ``ezhou`` → ``ezhou-huahu``) and listing them all."""
    path = Path(name)
    if path.is_file():
        return path
    root = scenarios_root()
    for candidate in (root / name, root / f"{name}.yaml", root / f"{name}.yml"):
        if candidate.is_file():
            return candidate
    shipped = shipped_scenarios()
    stem = path.name.removesuffix(".yaml").removesuffix(".yml")
    nearest = [s for s in shipped if s.startswith(stem)] if stem else []
    nearest = nearest or difflib.get_close_matches(stem, shipped, n=1, cutoff=0.5)
    hint = f" Did you mean {nearest[0]!r}?" if nearest else ""
    raise FileNotFoundError(
        f"no scenario file {name!r}, nor a shipped scenario of that name.{hint} "
        f"Shipped scenarios: {', '.join(shipped)}."
    )
