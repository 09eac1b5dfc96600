"""The states a declaration list passes through in the model, as receipt codes and WCO Time
Release Study (TRS) milestones (CEB spec 202205 §3.10.4 p. 86; the WCO TRS guide v3, 2018).

``on_transition(declaration_id, status, milestone, sim_time, info)`` is called once per
milestone below, in this order (brackets: only on some paths; sim_time in seconds)::

    status  milestone          when
    2       lodgement          the list is declared through E-Port (TRS: lodgement)
    3       transmission       sent to customs (same instant)
    120     acceptance         electronic audit passed, stored by customs (TRS: acceptance)
    100     rejection          ... or audit rejected it (final)
    [300]   manual_review      the risk engine sent it to an officer (TRS: risk decision)
    399     risk_decision      customs decision completed (TRS: risk decision)
    [500]   inspection_start   machine check (X-ray/CT) starts (TRS: inspection start)
    [500]   inspection_end     machine check, and manual inspection if any, ended
    [50x]   detention          detained after inspection: 501, 502, 503, 599 (final)
    [700]   return             shipped back after inspection (final)
    [*]     arrival            the goods reached the supervised site (TRS: arrival): an
                               export's 运抵; for a 9610 import the site entry, the operator's
                               entry record 入库明细单 CEB711 (CEB spec 202205 §3.15 p. 97);
                               never for 1210 (in the zone already). Release waits for it
                               (simulation.goods); status unchanged
    800     release            released (TRS: release)
    [800]   transit_start      sealed under an electronic lock, the truck leaves
    [800]   transit_end        unsealed at the destination gate
    899     exit               closed: export departure (离境), import closing, or the end of
                               e-lock transit (TRS: exit)

Milestones that do not change the status (inspection_end, arrival, transit_start,
transit_end) repeat the current status, so a receipt writer keyed on status changes can skip
them while a TRS report sees every step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from declarations import ReturnStatus


class Milestone(StrEnum):
    LODGEMENT = "lodgement"
    TRANSMISSION = "transmission"
    ACCEPTANCE = "acceptance"
    REJECTION = "rejection"
    MANUAL_REVIEW = "manual_review"
    RISK_DECISION = "risk_decision"
    INSPECTION_START = "inspection_start"
    INSPECTION_END = "inspection_end"
    DETENTION = "detention"
    RETURN = "return"
    ARRIVAL = "arrival"
    RELEASE = "release"
    TRANSIT_START = "transit_start"
    TRANSIT_END = "transit_end"
    EXIT = "exit"


OnTransition = Callable[[int, ReturnStatus, Milestone, float, Mapping[str, Any]], None]
"""``on_transition(declaration_id, status, milestone, sim_time, info)``."""
