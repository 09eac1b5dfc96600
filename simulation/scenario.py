"""The scenario file: a planner's YAML description of a clearance site, validated by pydantic.

Public API::

    load_scenario(path) -> Scenario        # ScenarioError: every problem's file, line and field
    parse_scenario(text, source) -> Scenario
    scenario_json_schema() -> dict          # committed as scenarios/scenario.schema.json

Units: the model's clock runs in **seconds**. Durations in the file are distributions with a
``unit`` (``s``, ``min`` or ``h``; seconds by default); horizons and clock times are in hours;
rates are per hour. A minimal M/M/1 scenario::

    name: mm1
    horizon_hours: 1000
    resources: {server: {capacity: 1}}
    stages:
      audit: {resource: server, service: {dist: exponential, mean: 1, unit: min}}
    flows:
      - name: parcels
        channel: express
        arrivals: {kind: poisson, rate_per_hour: 48}
        risk: {general: {}}       # no review, no inspection: audit then released
        credit_mix: {general: 1}

Stages are fixed in kind and order (audit → [review] → [machine_check → [manual_inspection]]
→ release); a stage left out of ``stages`` is skipped. A ``sorting_line`` (X-ray/CT lanes)
stands beside them: every parcel of its flows passes it when its goods arrive. Each stage
names a resource pool (``null`` means unlimited servers, a pure delay). Several stages may
share one pool (officers who review and also open parcels). The risk channel (see
``RiskProfile``) routes declarations between stages with Markov probabilities per flow and
credit class.

The models themselves live in ``simulation.scenario_schema`` (the e-lock sections in
``simulation.corridor_schema``, costs in ``simulation.cost_schema``) and the errors in
``simulation.scenario_errors``; this module loads files into them and re-exports them, so
``from simulation.scenario import Scenario`` is the one way in (only ``simulation.arrivals``,
which this module uses to check trace files, imports them from below).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from simulation.arrivals import ArrivalPlan, read_trace
from simulation.corridor_schema import Alarm, Corridor, LockPool, SealMode
from simulation.durations import Probability
from simulation.scenario_errors import ScenarioError, ScenarioProblem
from simulation.scenario_schema import (
    DEFAULT_PRIORITY,
    Arrivals,
    BatchArrivals,
    CapacityStep,
    Channel,
    CreditClass,
    Flow,
    Peak,
    PoissonArrivals,
    Resource,
    RiskProfile,
    RuleHit,
    Scenario,
    ShiftEnd,
    SortingLine,
    Source,
    Stage,
    StageName,
    Stages,
    TraceArrivals,
    TransitShare,
)

# The scenario's models are public through this module, with the loading functions.
__all__ = [
    "DEFAULT_PRIORITY",
    "Alarm",
    "Arrivals",
    "BatchArrivals",
    "CapacityStep",
    "Channel",
    "Corridor",
    "CreditClass",
    "Flow",
    "LockPool",
    "Peak",
    "PoissonArrivals",
    "Probability",
    "Resource",
    "RiskProfile",
    "RuleHit",
    "Scenario",
    "ScenarioError",
    "ScenarioProblem",
    "SealMode",
    "ShiftEnd",
    "SortingLine",
    "Source",
    "Stage",
    "StageName",
    "Stages",
    "TraceArrivals",
    "TransitShare",
    "field_path",
    "load_scenario",
    "parse_scenario",
    "scenario_json_schema",
    "trace_plans",
]

# --- loading with file + line errors -------------------------------------------------------


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest YAML node along pydantic's error location.

    Location parts that are not in the document (a union's tag such as ``exponential``) are
    skipped; the line of the last node found is the answer."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next(
                (
                    v
                    for k, v in node.value
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                ),
                None,
            )
            if child is None:
                key = next(
                    (
                        k
                        for k, _ in node.value
                        if isinstance(k, yaml.ScalarNode) and k.value == str(part)
                    ),
                    None,
                )
                if key is not None:
                    line = key.start_mark.line + 1
                continue
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                continue
            node = node.value[part]
        else:
            continue
        line = node.start_mark.line + 1
    return line


def field_path(error: ErrorDetails) -> str:
    """A pydantic error's location as a dotted path (``lock_pools.huahu.size``); pydantic's
    ``[key]`` (the key itself is wrong, not its value) is left out."""
    return ".".join(str(p) for p in error["loc"] if p != "[key]") or "(scenario)"


def parse_scenario(text: str, source: str = "<scenario>", base_dir: str | None = None) -> Scenario:
    """Validate scenario YAML ``text``; errors name ``source``, the line and the field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(source, line, "", f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScenarioError(source, 1, "", "a scenario must be a YAML mapping")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            ScenarioProblem(source, _line_of(root, tuple(e["loc"])), field_path(e), e["msg"])
            for e in exc.errors()
        ]
        first, *more = sorted(dict.fromkeys(problems), key=lambda p: p.line or 0)
        raise ScenarioError(first.file, first.line, first.field, first.message, more=more) from None
    scenario._base_dir = base_dir
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; trace files it names are checked too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(path), None, "", f"cannot read the file: {exc.strerror}") from None
    scenario = parse_scenario(text, str(path), str(path.resolve().parent))
    trace_plans(scenario)  # the trace files are checked now, and kept for the run
    return scenario


def trace_plans(scenario: Scenario) -> dict[str, ArrivalPlan]:
    """The arrivals of each trace flow of ``scenario`` as its file gives them, by flow name;
    ``ScenarioError`` names the file, line and field of a bad one. Each file is read once for
    a scenario and the variants made from it (a horizon, a sweep point): the plans are kept."""
    plans = {}
    for flow in scenario.flows:
        if not isinstance(flow.arrivals, TraceArrivals):
            continue
        trace = scenario.trace_path(flow.arrivals)
        key = (trace.resolve(), flow.arrivals.time_unit)
        if key not in scenario._traces:
            scenario._traces[key] = read_trace(trace, flow.arrivals.time_unit)
        plan: ArrivalPlan = scenario._traces[key]
        profiles = scenario.risk_for(flow)
        for row, credit in enumerate(plan.credit or []):
            if credit is not None and credit not in profiles:
                raise ScenarioError(
                    str(trace),
                    row + 2,  # the header is line 1
                    "credit_class",
                    f"flow {flow.name} has no risk profile for {credit.value!r}",
                )
        plans[flow.name] = plan
    return plans


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of the scenario file, for editors (YAML language servers)."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "danchuang clearance scenario"
    return schema
