"""The live scenario: a small built-in site, or a shipped scenario chosen by name.

Live mode uses a scenario's stages, resources and service times for timing, and its risk
profiles for outcomes — but the outcomes are drawn by the engine (``app.engine.outcomes``),
per declaration with a seeded generator, and handed to the model as ``Forced``. The model's own
routing draws are therefore switched off (``for_live``): otherwise a declaration replayed after
a crash could take another branch than the receipts it already has.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulation.paths import find_scenario
from simulation.scenario import (
    CreditClass,
    Flow,
    RiskProfile,
    Scenario,
    load_scenario,
    parse_scenario,
)

# A small site that clears a test declaration in about 20 simulated minutes on the happy
# path (a few seconds at the default 60x), with every branch reachable. Numbers are made up
# for integrators' tests, not taken from a site (see scenarios/ for those).
BUILTIN_YAML = """
name: live-sandbox
description: >-
  The live sandbox's built-in site: automatic audit, a few officers for review, inspection and
  release, one import flow and one export flow per regime. Numbers are illustrative.
horizon_hours: 1
resources:
  audit_system: {capacity: null}
  officers: {capacity: 4}
  xray: {capacity: 2}
  inspectors: {capacity: 2}
stages:
  audit: {resource: audit_system, service: {dist: deterministic, value: 30, unit: s}}
  review: {resource: officers, service: {dist: exponential, mean: 5, unit: min}}
  machine_check: {resource: xray, service: {dist: exponential, mean: 3, unit: min}}
  manual_inspection: {resource: inspectors, service: {dist: exponential, mean: 15, unit: min}}
  release: {resource: audit_system, service: {dist: deterministic, value: 30, unit: s}}
risk:
  aeo: {review: 0.02, inspect_direct: 0.01, inspect_after_review: 0.2,
        manual_after_machine: 0.2, detain: 0.01, return_goods: 0.01}
  general: {review: 0.05, inspect_direct: 0.05, inspect_after_review: 0.3,
            manual_after_machine: 0.3, detain: 0.02, return_goods: 0.02}
  low_credit: {review: 0.3, inspect_direct: 0.3, inspect_after_review: 0.5,
               manual_after_machine: 0.5, detain: 0.05, return_goods: 0.05,
               detention_codes: {501: 0.4, 502: 0.2, 503: 0.1, 599: 0.3}}
flows:
  # Live declarations come from the API: the flows have no arrivals of their own.
  - name: 9610-import
    regime: "9610"
    direction: import
    arrivals: &live {kind: poisson, rate_per_hour: 0}
    # the goods' entry at the site (CEB711) that release waits for, danchuang playing the site
    goods_arrival: {dist: exponential, mean: 20, unit: min}
    closing: {dist: deterministic, value: 2, unit: min}
    # the buyer signs for the goods (CEB513), danchuang playing the carrier
    delivery: {dist: lognormal, mean: 36, sd: 12, unit: h}
  - {name: 1210-import, regime: "1210", direction: import, arrivals: *live,
     closing: {dist: deterministic, value: 2, unit: min},
     delivery: {dist: lognormal, mean: 24, sd: 8, unit: h}}
  # Exports: the goods' arrival at the site (CEB507) that release waits for, danchuang playing
  # the site; their departure (CEB509) after release closes the 清单, danchuang playing the
  # carrier.
  - {name: 9610-export, regime: "9610", direction: export, arrivals: *live,
     goods_arrival: &arrive {dist: exponential, mean: 15, unit: min},
     departure: &leave {dist: deterministic, value: 5, unit: min}}
  - {name: 1210-export, regime: "1210", direction: export, arrivals: *live,
     goods_arrival: *arrive, departure: *leave}
  - {name: 9710-export, regime: "9710", direction: export, arrivals: *live,
     goods_arrival: *arrive, departure: *leave}
  - {name: 9810-export, regime: "9810", direction: export, arrivals: *live,
     goods_arrival: *arrive, departure: *leave}
assumptions:
  - "Illustrative numbers for a test sandbox; outcomes are usually forced by integrators."
"""

BUILTIN_NAME = "builtin"


def load_live_scenario(name: str | None) -> Scenario:
    """The built-in scenario (``None`` or ``builtin``), or a shipped scenario / file by name."""
    if name is None or name == BUILTIN_NAME:
        return parse_scenario(BUILTIN_YAML, "<built-in live scenario>")
    return load_scenario(find_scenario(name))


def for_live(scenario: Scenario) -> Scenario:
    """The scenario with the model's own outcome draws switched off (the engine draws them)."""

    def quiet(profiles: dict[CreditClass, RiskProfile]) -> dict[CreditClass, RiskProfile]:
        return {
            credit: profile.model_copy(update={"reject": 0.0, "detain": 0.0, "return_goods": 0.0})
            for credit, profile in profiles.items()
        }

    flows = [
        flow.model_copy(
            update={
                "rule_hits": [],
                "risk": quiet(flow.risk) if flow.risk is not None else None,
            }
        )
        for flow in scenario.flows
    ]
    return scenario.model_copy(update={"risk": quiet(scenario.risk), "flows": flows})


@dataclass(frozen=True)
class Route:
    """Where a declaration goes in the model: its flow, credit class and risk profile."""

    flow: Flow
    credit: CreditClass
    profile: RiskProfile


def route(scenario: Scenario, regime: str | None, direction: str, credit_class: str) -> Route:
    """The flow of the same regime and direction; else the same direction; else the first.
    The credit class is the enterprise's when the flow has a profile for it, else general,
    else the flow's first profile."""
    flows = scenario.flows
    same_direction = [f for f in flows if f.direction == direction]
    exact = [f for f in same_direction if f.regime == regime]
    flow = (exact or same_direction or flows)[0]
    profiles = scenario.risk_for(flow)
    credit = CreditClass(credit_class)
    if credit not in profiles:
        credit = CreditClass.GENERAL if CreditClass.GENERAL in profiles else next(iter(profiles))
    return Route(flow, credit, profiles[credit])
