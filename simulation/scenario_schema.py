"""What a scenario file may hold: the pydantic models of a planner's YAML site description.

``simulation.scenario`` loads a file into these models (with each problem's file, line and
field) and re-exports them; import them from there. Its ``lock_pools`` and ``corridors``
are the models of ``simulation.corridor_schema``, its ``costs`` of ``simulation.cost_schema``.
Units and the shape of a file: ``simulation.scenario``'s docstring and docs/simulation.md.
"""

from __future__ import annotations

from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from declarations import DETENTIONS
from simulation.corridor_schema import Corridor, LockPool
from simulation.cost_schema import Costs
from simulation.durations import Distribution, Probability, Strict, Unit

# --- resources and shifts ------------------------------------------------------------------


class ShiftEnd(StrEnum):
    FINISH = "finish"  # a server whose shift ends finishes its current job, then leaves
    PREEMPT = "preempt"  # the job is interrupted, goes back to the head of its queue, resumes later


class CapacityStep(Strict):
    """From ``from_hour`` (within the repeating period) the pool has ``capacity`` servers."""

    from_hour: float = Field(ge=0)
    capacity: int = Field(ge=0)


class Resource(Strict):
    """A pool of identical servers (X-ray lanes, officers, audit engines).

    ``capacity: null`` is an unlimited pool (7×24 automatic systems); then no queue forms.
    ``schedule`` makes the capacity piecewise constant over a repeating period (shifts, night
    crews); the first step must start at hour 0.
    """

    capacity: int | None = Field(default=None, ge=0)
    schedule: list[CapacityStep] | None = None
    period_hours: float = Field(default=24.0, gt=0)
    at_shift_end: ShiftEnd = ShiftEnd.FINISH

    @model_validator(mode="after")
    def _schedule_ok(self) -> Resource:
        if self.schedule is not None:
            hours = [step.from_hour for step in self.schedule]
            if not hours or hours[0] != 0:
                raise ValueError("the schedule's first step must start at from_hour 0")
            if any(b <= a for a, b in pairwise(hours)):
                raise ValueError("schedule steps must be in increasing from_hour order")
            if hours[-1] >= self.period_hours:
                raise ValueError("schedule steps must start before period_hours")
        return self


# --- stages --------------------------------------------------------------------------------


class StageName(StrEnum):
    AUDIT = "audit"  # 电子审单
    REVIEW = "review"  # 人工审核
    MACHINE_CHECK = "machine_check"  # 机检 (X-ray / CT)
    MANUAL_INSPECTION = "manual_inspection"  # 人工查验
    RELEASE = "release"  # 放行
    # Last, so that a scenario without it draws the same random numbers as before it existed.
    SORTING_LINE = "sorting_line"  # 分拣线 with X-ray/CT lanes: every parcel, on arrival


class Stage(Strict):
    resource: str | None = None  # a key of ``resources``; null = unlimited (a pure delay)
    service: Distribution
    # Different service times for some flows (B2B consignments take longer to open).
    service_by_flow: dict[str, Distribution] = Field(default_factory=dict)


class SortingLine(Stage):
    """The site's sorting line (分拣线) with its X-ray/CT lanes, each lane a server of
    ``resource``: every declaration of ``flows`` (default: every flow with a
    ``goods_arrival``) passes it when its goods reach the site, whatever its risk path, and
    its release waits for it (``simulation.goods``)."""

    flows: list[str] | None = None


class Stages(Strict):
    audit: Stage | None = None
    review: Stage | None = None
    machine_check: Stage | None = None
    manual_inspection: Stage | None = None
    release: Stage | None = None
    sorting_line: SortingLine | None = None


# --- risk channel --------------------------------------------------------------------------


class CreditClass(StrEnum):
    AEO = "aeo"  # 高级认证企业
    GENERAL = "general"  # 一般信用企业
    LOW_CREDIT = "low_credit"  # 失信企业


DEFAULT_PRIORITY = {CreditClass.AEO: 0, CreditClass.GENERAL: 1, CreditClass.LOW_CREDIT: 2}


class RiskProfile(Strict):
    """Markov routing of one credit class of one flow (all probabilities default to 0).

    After audit: ``reject`` (100, final), else ``review`` (300 → officer review). Inspection is
    ordered with ``inspect_after_review`` for reviewed declarations, ``inspect_direct`` for the
    others; an inspection is a machine check followed, with ``manual_after_machine``, by manual
    inspection. After inspection: ``detain`` (501–503/599 by ``detention_codes`` weights, final)
    or ``return_goods`` (700, final); otherwise released. Auto-release share =
    (1 − reject)(1 − review)(1 − inspect_direct).
    """

    reject: Probability = 0.0
    review: Probability = 0.0
    inspect_after_review: Probability = 0.0
    inspect_direct: Probability = 0.0
    manual_after_machine: Probability = 0.0
    detain: Probability = 0.0
    return_goods: Probability = 0.0
    detention_codes: dict[int, float] = Field(default_factory=lambda: {599: 1.0})

    @model_validator(mode="after")
    def _outcomes(self) -> RiskProfile:
        if self.detain + self.return_goods > 1:
            raise ValueError("detain + return_goods must not exceed 1")
        bad = [c for c in self.detention_codes if c not in {int(s) for s in DETENTIONS}]
        if bad:
            raise ValueError(f"detention codes must be among 501, 502, 503, 599 (got {bad})")
        if not self.detention_codes or sum(self.detention_codes.values()) <= 0:
            raise ValueError("detention_codes needs at least one positive weight")
        return self


class RuleHit(Strict):
    """A risk rule (declared-value anomaly, sensitive goods) that fires with ``probability``
    and forces an inspection (machine check, then manual inspection if ``manual``)."""

    name: str
    probability: Probability
    manual: bool = True


# --- arrivals ------------------------------------------------------------------------------


class Peak(Strict):
    """Multiply the rate by ``multiplier`` between two absolute hours of the horizon."""

    start_hour: float = Field(ge=0)
    end_hour: float = Field(gt=0)
    multiplier: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Peak:
        if self.end_hour <= self.start_hour:
            raise ValueError("end_hour must be after start_hour")
        return self


class PoissonArrivals(Strict):
    """(Non-homogeneous) Poisson: rate × hourly_profile[hour of day] × active peak multipliers.

    The rate is piecewise constant by hour, so arrivals are generated exactly (Poisson count
    per piece, uniform times within it)."""

    kind: Literal["poisson"]
    rate_per_hour: float = Field(ge=0)
    hourly_profile: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, min_length=24, max_length=24
    )
    peaks: list[Peak] = Field(default_factory=list)


class BatchArrivals(Strict):
    """Batches (a flight, a rail container): at fixed clock ``times_of_day`` (hours, repeating
    every day) or as a Poisson stream of ``batches_per_hour``; each brings ``size`` items."""

    kind: Literal["batch"]
    times_of_day: list[Annotated[float, Field(ge=0, lt=24)]] | None = None
    batches_per_hour: float | None = Field(default=None, gt=0)
    size: Distribution  # number of declarations per batch (rounded, at least 1); unit ignored
    peaks: list[Peak] = Field(default_factory=list)  # multiply batch sizes in a window

    @model_validator(mode="after")
    def _one_clock(self) -> BatchArrivals:
        if (self.times_of_day is None) == (self.batches_per_hour is None):
            raise ValueError("give exactly one of times_of_day or batches_per_hour")
        return self


class TraceArrivals(Strict):
    """Replay a CSV file: column ``time`` (in ``time_unit`` from the start) and optional
    ``credit_class`` (aeo / general / low_credit), ``rule_hit`` (a rule name) and ``count``
    (declarations arriving together). A named rule forces inspection; one not listed in the
    flow's ``rule_hits`` also demands manual inspection. Relative paths are relative to the
    scenario file."""

    kind: Literal["trace"]
    file: str
    time_unit: Unit = "s"


Arrivals = Annotated[PoissonArrivals | BatchArrivals | TraceArrivals, Field(discriminator="kind")]


# --- flows ---------------------------------------------------------------------------------


class Channel(StrEnum):
    MAIL = "mail"  # 邮件
    EXPRESS = "express"  # 快件
    GENERAL_TRADE = "general_trade"  # 一般贸易 (for mixed sites)


class TransitShare(Strict):
    corridor: str  # a key of ``corridors``
    share: Probability


class Flow(Strict):
    """A named arrival stream: a CBEC regime with a direction, or a non-CBEC channel."""

    name: str
    regime: Literal["9610", "1210", "9710", "9810"] | None = None
    direction: Literal["import", "export"] = "import"
    channel: Channel | None = None
    arrivals: Arrivals
    credit_mix: dict[CreditClass, float] = Field(default_factory=lambda: {CreditClass.GENERAL: 1.0})
    risk: dict[CreditClass, RiskProfile] | None = None  # None: use the scenario's ``risk``
    rule_hits: list[RuleHit] = Field(default_factory=list)
    # The goods reach the supervised site this long after lodgement, and release waits for
    # it: an export's arrival (运抵), a 9610 import's entry into the site (the operator's entry
    # record 入库明细单 CEB711, CEB spec 202205 §3.15 p. 97). A 1210 import has none (refused).
    # Departure (离境) follows an export's release after ``departure``; an import closes after
    # ``closing``.
    goods_arrival: Distribution | None = None
    departure: Distribution | None = None
    closing: Distribution | None = None
    transit: TransitShare | None = None
    # Import: the buyer signs for the goods this long after release (the carrier's 运单状态
    # CEB513, §3.7). The batch model does not use it; the live service sends danchuang's
    # delivery record after it when it plays the carrier.
    delivery: Distribution | None = None

    @field_validator("goods_arrival")
    @classmethod
    def _goods_reach_a_site(cls, value: Any, info: ValidationInfo) -> Any:
        data = info.data  # the fields above this one (regime, direction)
        if value is not None and _bonded_import(data.get("regime"), data.get("direction")):
            raise ValueError(
                "a 1210 bonded import has no goods arrival: its goods are already in the bonded "
                "zone, so no site entry record (入库明细单 CEB711, CEB spec 202205 §3.15 p. 97) "
                "comes before release; remove goods_arrival"
            )
        return value

    @model_validator(mode="after")
    def _kind(self) -> Flow:
        if (self.regime is None) == (self.channel is None):
            raise ValueError("a flow has exactly one of regime or channel")
        if self.regime in {"9710", "9810"} and self.direction != "export":
            raise ValueError(f"regime {self.regime} is export only")
        if not self.credit_mix or sum(self.credit_mix.values()) <= 0:
            raise ValueError("credit_mix needs at least one positive share")
        return self

    @property
    def goods_arrive(self) -> bool:
        """Whether the goods reach the supervised site after lodgement, so that release may
        wait for them (``goods_arrival``, or a live caller's report): every flow but a 1210
        bonded import, whose goods are already in the zone."""
        return not _bonded_import(self.regime, self.direction)

    @property
    def label(self) -> str:
        """Regime key for grouping: ``9610-import``, ``1210-export``, ``mail``."""
        return f"{self.regime}-{self.direction}" if self.regime else str(self.channel)


def _bonded_import(regime: str | None, direction: str | None) -> bool:
    return regime == "1210" and direction == "import"


# --- the scenario --------------------------------------------------------------------------


class Source(Strict):
    claim: str  # which number
    source: str  # URL or citation


class Scenario(Strict):
    name: str
    description: str = ""
    horizon_hours: float = Field(gt=0)
    warmup_hours: float = Field(default=0.0, ge=0)
    # Keep running this long after the last arrival so late declarations can finish.
    drain_hours: float = Field(default=0.0, ge=0)
    sample_every_minutes: float = Field(default=15.0, gt=0)
    target_hours: float = Field(default=1.0, gt=0)  # KPI: share released within this time
    resources: dict[str, Resource] = Field(default_factory=dict)
    stages: Stages
    risk: dict[CreditClass, RiskProfile] = Field(default_factory=dict)
    priority: dict[CreditClass, int] = Field(default_factory=lambda: dict(DEFAULT_PRIORITY))
    flows: list[Flow] = Field(min_length=1)
    lock_pools: dict[str, LockPool] = Field(default_factory=dict)
    corridors: dict[str, Corridor] = Field(default_factory=dict)
    costs: Costs | None = None  # simulation.cost: hourly pool costs, e-lock cost per day
    sources: list[Source] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    # Folder of the scenario file; trace paths are relative to it. Set by the loader.
    _base_dir: str | None = PrivateAttr(default=None)
    # Trace files read for this scenario and the variants made from it, by (file, time unit):
    # ``simulation.scenario.trace_plans`` reads each once (its ArrivalPlan, from below).
    _traces: dict[tuple[Path, str], Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        if self.warmup_hours >= self.horizon_hours:
            raise ValueError("warmup_hours must be shorter than horizon_hours")
        names = [f.name for f in self.flows]
        if len(set(names)) != len(names):
            raise ValueError("flow names must be unique")
        if self.stages.audit is None and self.stages.release is None:
            raise ValueError("stages needs at least audit or release")
        for stage_name in StageName:
            stage = getattr(self.stages, stage_name.value)
            if stage is None:
                continue
            if stage.resource is not None and stage.resource not in self.resources:
                raise ValueError(f"stage {stage_name.value}: unknown resource {stage.resource!r}")
            unknown = set(stage.service_by_flow) - set(names)
            if unknown:
                raise ValueError(f"stage {stage_name.value}: unknown flows {sorted(unknown)}")
        self._line_flows_ok()
        for flow in self.flows:
            profiles = flow.risk if flow.risk is not None else self.risk
            missing = [c.value for c, s in flow.credit_mix.items() if s > 0 and c not in profiles]
            if missing:
                raise ValueError(f"flow {flow.name}: no risk profile for credit classes {missing}")
            if flow.transit and flow.transit.corridor not in self.corridors:
                raise ValueError(f"flow {flow.name}: unknown corridor {flow.transit.corridor!r}")
        for key, corridor in self.corridors.items():
            if corridor.lock_pool not in self.lock_pools:
                raise ValueError(f"corridor {key}: unknown lock_pool {corridor.lock_pool!r}")
            if corridor.seal_resource and corridor.seal_resource not in self.resources:
                raise ValueError(
                    f"corridor {key}: unknown seal_resource {corridor.seal_resource!r}"
                )
        if self.costs is not None:
            self.costs.check(self.resources, list(self.lock_pools))
        return self

    def _line_flows_ok(self) -> None:
        line = self.stages.sorting_line
        if line is None or line.flows is None:
            return
        by_name = {f.name: f for f in self.flows}
        unknown = sorted(set(line.flows) - set(by_name))
        if unknown:
            raise ValueError(f"stage sorting_line: unknown flows {unknown}")
        never = [name for name in line.flows if by_name[name].goods_arrival is None]
        if never:
            raise ValueError(
                f"stage sorting_line: flows {never} have no goods_arrival, so their goods never "
                "reach the line; give them one or leave them out of flows"
            )

    def sorted_on_line(self, flow: Flow) -> bool:
        """Whether ``flow``'s declarations pass the sorting line when their goods arrive."""
        line = self.stages.sorting_line
        if line is None:
            return False
        return flow.goods_arrival is not None if line.flows is None else flow.name in line.flows

    def risk_for(self, flow: Flow) -> dict[CreditClass, RiskProfile]:
        return flow.risk if flow.risk is not None else self.risk

    def trace_path(self, arrivals: TraceArrivals) -> Path:
        path = Path(arrivals.file)
        if not path.is_absolute() and self._base_dir:
            path = Path(self._base_dir) / path
        return path
