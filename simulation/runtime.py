"""The parts of a scenario compiled for the model's hot path: flows with their risk tables
and samplers, stages with their statistics, and ``Lodgement``, the model's record of one
declaration list (not the database's ``Declaration``)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from declarations import ReturnStatus
from simulation.distributions import Sampler, choice_sampler, sampler, stream, uniform_sampler
from simulation.monitor import Level
from simulation.resources import Pool
from simulation.routing import STRAIGHT, Forced, RiskPath, draw_path, routes
from simulation.scenario import CreditClass, Flow, RiskProfile, Scenario, StageName
from simulation.transit import CorridorRuntime

Samples: TypeAlias = "array[float]"  # array("d") of observations in seconds
CREDITS = tuple(CreditClass)
CREDIT_INDEX = {credit: i for i, credit in enumerate(CREDITS)}  # a credit class's index


@dataclass(slots=True)
class PathCounts:
    """Declarations of one flow and credit class decided after warm-up, and how many of them
    went through manual review and through inspection."""

    decided: int = 0
    reviewed: int = 0
    inspected: int = 0

    def add(self, other: PathCounts) -> None:
        """Count ``other``'s declarations in as well."""
        self.decided += other.decided
        self.reviewed += other.reviewed
        self.inspected += other.inspected


class Lodgement:
    """One declaration list lodged in the model (the handle ``submit`` returns), with the path
    through the risk channel drawn for it at lodgement."""

    __slots__ = (
        "credit",
        "decided",
        "decided_at",
        "flow",
        "goods_at",
        "goods_here",
        "id",
        "lodged",
        "path",
        "prio",
        "reject_code",
        "released",
        "status",
        "t_stage",
    )

    def __init__(  # noqa: PLR0917  # one per declaration: positional arguments are faster
        self, ident: int, flow: FlowRuntime, credit: int, prio: int, now: float, path: RiskPath
    ) -> None:
        self.id = ident
        self.flow = flow
        self.credit = credit
        self.prio = prio
        self.lodged = now
        self.path = path
        self.reject_code: str | None = None  # a forced rejection's business code (live mode)
        self.status = ReturnStatus.DECLARING
        self.decided = False
        self.decided_at = 0.0
        self.goods_here = True
        self.goods_at = 0.0
        self.released = 0.0
        self.t_stage = now


class FlowRuntime:
    """A flow's compiled parameters: risk as plain floats, samplers, statistics lists."""

    def __init__(
        self, index: int, spec: Flow, scenario: Scenario, rng: np.random.Generator
    ) -> None:
        self.index = index
        self.spec = spec
        self.name = spec.name
        self.label = spec.label
        self.export = spec.direction == "export"
        mix = [spec.credit_mix.get(c, 0.0) for c in CREDITS]
        self.credit = choice_sampler(mix, rng)
        profiles = scenario.risk_for(spec)
        self.risk: list[RiskProfile | None] = [profiles.get(c) for c in CREDITS]
        self.routed = [p is not None and routes(p) for p in self.risk]
        # The uniform of a detention's code, one stream per risk profile.
        self.detention_code = [uniform_sampler(rng) if p is not None else None for p in self.risk]
        self.rules = RuleStreams([(r.probability, r.manual) for r in spec.rule_hits], rng)
        self.rule_manual = {r.name: r.manual for r in spec.rule_hits}
        self.goods_arrival = sampler(spec.goods_arrival, rng) if spec.goods_arrival else None
        after = spec.departure if self.export else spec.closing
        self.after_release = sampler(after, rng) if after else None
        self.transit_share = spec.transit.share if spec.transit else 0.0
        self.corridor: CorridorRuntime[Lodgement] | None = None
        # Observations go into typed arrays: 8 bytes a value instead of a 32-byte float object
        # plus a pointer (a million-declaration run keeps several million of them).
        self.cycle: Samples = array("d")  # lodgement -> release, seconds (after warm-up)
        self.end_to_end: Samples = array("d")  # lodgement -> exit
        # WCO Time Release Study intervals of released declarations (after warm-up)
        self.to_decision: Samples = array("d")  # lodgement -> risk decision (399)
        self.decision_to_release: Samples = array("d")  # 399 -> 800: inspection, goods, release
        self.arrived = 0  # lodged after warm-up
        # the risk paths taken, one PathCounts per credit class (indexed like CREDITS)
        self.path_counts = [PathCounts() for _ in CREDITS]

    def risk_path(
        self,
        credit: int,
        rule: str | None,
        force: Forced | None,
        uniforms: Callable[[], Sequence[float]],
        review_stage: bool,
    ) -> RiskPath:
        """The path through the risk channel (``simulation.routing``) of one declaration of
        this flow and credit class, lodged now, drawn with ``uniforms()``. Risk rules fire at
        lodgement: the ``rule`` a trace or the caller names, or the flow's own rules."""
        rule_hit = rule is not None
        rule_manual = rule is not None and self.rule_manual.get(rule, True)
        if self.rules.soonest:
            hit, manual = self.rules.hits()
            rule_hit = rule_hit or hit
            rule_manual = rule_manual or manual
        if not (self.routed[credit] or rule_hit or force is not None):
            return STRAIGHT  # nothing to draw (``routing.routes``)
        profile, code = self.risk[credit], self.detention_code[credit]
        assert profile is not None and code is not None  # the schema checks the credit mix
        return draw_path(
            profile,
            uniforms(),
            code,
            review_stage=review_stage,
            rule_hit=rule_hit,
            rule_manual=rule_manual,
            forced=force,
        )


class RuleStreams:
    """Independent risk rules, each hitting a declaration with its probability.

    A Bernoulli stream is a sequence of geometric gaps, so instead of one uniform draw per rule
    per declaration we keep the ordinal of each rule's next hit: the common case (no hit) costs
    one integer comparison."""

    def __init__(self, rules: list[tuple[float, bool]], rng: np.random.Generator) -> None:
        self.rules = [(p, manual) for p, manual in rules if p > 0]
        self.gaps = [_geometric(p, rng) for p, _manual in self.rules]
        self.next_hit = [int(gap()) for gap in self.gaps]
        self.soonest = min(self.next_hit, default=0)  # 0: never (ordinals start at 1)
        self.ordinal = 0

    def hits(self) -> tuple[bool, bool]:
        """Advance one declaration: (did any rule hit, does one demand manual inspection)."""
        self.ordinal += 1
        if self.ordinal != self.soonest:
            return False, False
        manual = False
        for i, (_p, rule_manual) in enumerate(self.rules):
            if self.next_hit[i] == self.ordinal:
                manual = manual or rule_manual
                self.next_hit[i] += int(self.gaps[i]())
        self.soonest = min(self.next_hit)
        return True, manual


def _geometric(p: float, rng: np.random.Generator) -> Sampler:
    child = rng.spawn(1)[0]
    return stream(lambda n: child.geometric(p, n).astype(float))


class StageRuntime:
    def __init__(
        self, name: StageName, pool: Pool, service: Sampler, by_flow: dict[str, Sampler]
    ) -> None:
        self.name = name
        self.pool = pool
        self.service = service
        self.by_flow = by_flow
        self.queue = Level()
        self.sojourn: Samples = array("d")
        self.waits: Samples = array("d")
        self.by_credit_wait: list[Samples] = [array("d") for _ in CREDITS]
