"""The parts of a scenario compiled for the model's hot path: flows with their risk tables
and samplers, stages with their statistics, and ``Lodgement``, the model's record of one
declaration list (not the database's ``Declaration``)."""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from declarations import ReturnStatus
from simulation.distributions import Sampler, choice_sampler, sampler, uniform_sampler
from simulation.monitor import Level
from simulation.resources import Pool
from simulation.routing import (
    UNIFORMS,
    Forced,
    RiskPath,
    Rule,
    draw_path,
    path_stream,
    uniform_rows,
)
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
        self,
        index: int,
        spec: Flow,
        scenario: Scenario,
        rng: np.random.Generator,
        *,
        review_stage: bool,
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
        self.rules: list[Rule] = [(r.probability, r.manual) for r in spec.rule_hits]
        self.rule_manual = {r.name: r.manual for r in spec.rule_hits}
        self.review_stage = review_stage
        # The uniform of a detention's code, one stream per risk profile.
        self.detention_code = [uniform_sampler(rng) if p is not None else None for p in self.risk]
        # Per credit class, set by ``route_with``: the paths of the declarations the flow's own
        # rules alone decide (``path[credit]()``, the hot path), and rows of uniforms for those
        # a caller names a rule for or forces (``drawn_path``).
        self.path: list[Callable[[], RiskPath]] = [_no_profile for _ in CREDITS]
        self.rows: list[Callable[[], list[float]] | None] = [None for _ in CREDITS]
        self.goods_arrival = sampler(spec.goods_arrival, rng) if spec.goods_arrival else None
        self.sorted = scenario.sorted_on_line(spec)  # its goods pass the site's sorting line
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

    def route_with(self, rng: np.random.Generator) -> None:
        """Draw this flow's paths with streams spawned from ``rng`` (the model's routing
        generator, spawned after every other stream, so that a change in routing does not shift
        the arrivals' and services' random numbers)."""
        width = UNIFORMS + len(self.rules)
        for credit, (profile, code) in enumerate(zip(self.risk, self.detention_code, strict=True)):
            if profile is not None and code is not None:
                self.path[credit] = path_stream(
                    profile, self.rules, rng, code, review_stage=self.review_stage
                )
                self.rows[credit] = uniform_rows(rng, width)

    def drawn_path(self, credit: int, rule: str | None, force: Forced | None) -> RiskPath:
        """The path (``simulation.routing``) of a declaration of this flow and credit class
        that a caller names a risk ``rule`` for (it hit, besides the flow's own rules) or
        forces choices on (live mode)."""
        profile, code, rows = self.risk[credit], self.detention_code[credit], self.rows[credit]
        assert profile is not None and code is not None and rows is not None
        return draw_path(
            profile,
            rows(),
            code,
            review_stage=self.review_stage,
            rules=self.rules,
            rule_hit=rule is not None,
            rule_manual=rule is not None and self.rule_manual.get(rule, True),
            forced=force,
        )


def _no_profile() -> RiskPath:
    raise AssertionError("no risk profile for this credit class (the scenario checks the mix)")


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
