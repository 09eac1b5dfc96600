"""National scenario files: a day of many sites, each a site scenario at a volume scale.

Public API::

    load_national(path) -> National          # NationalError naming the entry if bad
    National.sites -> list[SiteEntry]         # each with its scaled scenario (``.scenario``)
    scale_scenario(scenario, scale) -> Scenario

A file (``scenarios/national/china-day.yaml``) names its sites::

    name: china-day
    horizon_hours: 24          # optional: every site's arrival window (default: each its own)
    replications: 2            # default for ``danchuang national``
    sites:
      - {name: zhengzhou-airport, scenario: ezhou-huahu-source, scale: 2.0}
      - {name: yiwu, scenario: huzhou-export-park, scale: 10, seed_offset: 7}

``scenario`` is a shipped scenario's name or a file (relative to the national file's folder).
**The scale** multiplies the site's volume and its capacity alike, so a scaled site keeps its
template's shape and load: every Poisson rate and every batch size distribution (its mean,
sd or bounds; not an empirical one's) is multiplied by it, and every limited server count (a pool's
``capacity`` and each shift's) and e-lock pool size is multiplied and rounded up. Service
times, routing, trucks' capacities and timetables stay as they are. A trace flow cannot be
scaled (its file is the count). ``seed_offset`` (default 0) is added to the run's seed for the
site only (``simulation.national`` says how seeds are drawn).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
)

from simulation.paths import find_scenario
from simulation.scenario import Scenario, ScenarioError, field_path, load_scenario
from simulation.sweep import Scalar, SweepError, apply_overrides

_SCALED_FIELDS = ("mean", "sd", "value", "low", "mode", "high")


class NationalError(ValueError):
    """A national file that cannot run; ``str()`` names the file and the entry."""


class SiteEntry(BaseModel):
    """One site of the national day: a site scenario at a volume scale."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    scenario_name: str = Field(alias="scenario", min_length=1)
    scale: float = Field(default=1.0, gt=0)
    seed_offset: int = Field(default=0, ge=0)
    note: str = ""  # where the volume comes from (scenarios/README.md has the full table)
    _scenario: Scenario | None = PrivateAttr(default=None)  # filled in by load_national

    @property
    def scenario(self) -> Scenario:
        """The site's scenario, scaled and named after the site."""
        assert self._scenario is not None, "load_national fills every site's scenario"
        return self._scenario


class National(BaseModel):
    """A national day: sites run as one job, merged into national KPIs."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    horizon_hours: float | None = Field(default=None, gt=0)
    replications: int = Field(default=2, ge=1)
    seed: int = Field(default=1, ge=0)
    sites: list[SiteEntry] = Field(min_length=1)
    assumptions: list[str] = Field(default_factory=list)

    @field_validator("sites")
    @classmethod
    def _unique_names(cls, sites: list[SiteEntry]) -> list[SiteEntry]:
        seen: set[str] = set()
        for index, site in enumerate(sites):
            if site.name in seen:
                raise ValueError(f"sites.{index} ({site.name}): the name is used twice")
            seen.add(site.name)
        return sites


def _overrides(data: dict[str, Any], scale: float, label: str) -> dict[str, Scalar]:
    """The dotted paths (``simulation.sweep`` names) a scale changes, with their new values."""
    found: dict[str, Scalar] = {}
    for flow in data.get("flows", []):
        arrivals, where = flow["arrivals"], f"flows.{flow['name']}.arrivals"
        if arrivals["kind"] == "poisson":
            found[f"{where}.rate_per_hour"] = arrivals["rate_per_hour"] * scale
        elif arrivals["kind"] == "batch":
            size = arrivals["size"]
            for key in _SCALED_FIELDS:
                if key in size:
                    found[f"{where}.size.{key}"] = size[key] * scale
            if size["dist"] == "empirical" and scale != 1:
                raise NationalError(
                    f"{label}: flow {flow['name']!r}: an empirical batch size cannot be scaled; "
                    "give the site scale 1, or the flow another size distribution"
                )
        elif scale != 1:
            raise NationalError(
                f"{label}: flow {flow['name']!r} replays a trace, which cannot be "
                "scaled; give it scale 1"
            )
    for pool_name, pool in data.get("resources", {}).items():
        if pool.get("capacity") is not None:
            found[f"resources.{pool_name}.capacity"] = math.ceil(pool["capacity"] * scale)
        for i, step in enumerate(pool.get("schedule") or []):
            found[f"resources.{pool_name}.schedule.{i}.capacity"] = math.ceil(
                step["capacity"] * scale
            )
    for lock_name, locks in data.get("lock_pools", {}).items():
        found[f"lock_pools.{lock_name}.size"] = math.ceil(locks["size"] * scale)
    return found


def scale_scenario(scenario: Scenario, scale: float, *, label: str = "") -> Scenario:
    """``scenario`` at ``scale`` times its volume and capacity (see the module docstring)."""
    data = scenario.model_dump(mode="python")
    overrides: dict[str, Scalar] = {} if scale == 1 else _overrides(data, scale, label)
    try:
        return apply_overrides(scenario, overrides)
    except SweepError as exc:
        raise NationalError(f"{label}: scale {scale:g}: {exc}") from None


def _entry_label(path: Path, raw: Any, index: int) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"{path.name}: sites.{index}" + (f" ({name})" if name else "")


def load_national(path: str | Path) -> National:
    """Read and check a national file; every site's scenario is loaded and scaled. Errors
    name the file and the entry (``sites.3 (yiwu): scale: ...``)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NationalError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise NationalError(f"{path.name}: not YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise NationalError(f"{path.name}: expected a mapping with name: and sites:")
    try:
        national = National.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            where = field_path(error)
            parts = where.split(".")
            if parts[0] == "sites" and len(parts) > 1 and parts[1].isdigit():
                index = int(parts[1])
                entry = raw["sites"][index] if index < len(raw.get("sites") or []) else None
                rest = ".".join(parts[2:]) or "entry"
                lines.append(f"{_entry_label(path, entry, index)}: {rest}: {error['msg']}")
            else:
                message = str(error["msg"]).removeprefix("Value error, ")
                lines.append(f"{path.name}: {where}: {message}")
        raise NationalError("\n".join(dict.fromkeys(lines))) from None
    for index, site in enumerate(national.sites):
        label = f"{path.name}: sites.{index} ({site.name})"
        local = path.parent / site.scenario_name
        try:
            file = local if local.is_file() else find_scenario(site.scenario_name)
            template = load_scenario(file)
        except (FileNotFoundError, ScenarioError) as exc:
            raise NationalError(f"{label}: scenario: {exc}") from None
        scaled = scale_scenario(template, site.scale, label=label)
        site._scenario = apply_overrides(scaled, {"name": site.name})
        horizon = national.horizon_hours
        if horizon is not None and horizon <= site.scenario.warmup_hours:
            raise NationalError(
                f"{label}: horizon_hours {horizon:g} must exceed the site's warm-up "
                f"({site.scenario.warmup_hours:g} h)"
            )
    return national
