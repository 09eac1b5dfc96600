"""The state machines of docs/live-clearance.md ("The life of a declaration", "The life of an
export declaration") are the code's: the tables there list exactly ``app.states.TRANSITIONS``
and ``EXPORT_TRANSITIONS``, and ``states.move`` refuses a change of state the declaration's
table does not hold. (Every live test moves declarations through ``move``, so a
path the code takes outside the table fails them.)"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import states

DOC = Path(__file__).parents[2] / "docs" / "live-clearance.md"


def _table(title: str = "The life of a declaration") -> list[tuple[str, str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            before, event, receipts, after = cells
            rows.append((before.strip("`"), event, receipts, after.strip("`")))
    return rows


def test_the_documented_tables_are_the_code_s() -> None:
    code = [(s.before, s.event, s.receipts, s.after) for s in states.TRANSITIONS]
    assert _table() == code
    export = [(s.before, s.event, s.receipts, s.after) for s in states.EXPORT_TRANSITIONS]
    assert _table("The life of an export declaration") == export


@pytest.mark.parametrize("table", [states.TRANSITIONS, states.EXPORT_TRANSITIONS])
def test_every_state_is_reached_and_every_final_state_ends_it(
    table: tuple[states.Step, ...],
) -> None:
    assert {s.after for s in table} == set(states.ALL_STATES)
    for final in states.FINAL_STATES - {states.REJECTED}:  # a refused set may be declared anew
        assert {s.after for s in table if s.before == final} <= {final}


def test_each_direction_moves_by_its_own_table() -> None:
    export = SimpleNamespace(state=states.CLEARANCE_READY, direction="export")
    with pytest.raises(ValueError, match="from clearance_ready to cleared"):
        states.move(export, states.CLEARED)
    states.move(export, states.CLEARING)
    states.move(export, states.CLEARED)
    assert export.state == states.CLEARED


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (states.INCOMPLETE, states.CLEARING),  # the engine takes only ready sets
        (states.CLEARED, states.CANCELLED),  # a closed 清单 is not cancelled (-623005)
        (states.CANCELLED, states.CLEARING),
        (states.DETAINED, states.CLEARED),
    ],
)
def test_a_change_outside_the_table_is_refused(before: str, after: str) -> None:
    declaration = SimpleNamespace(state=before, direction="import")
    with pytest.raises(ValueError, match=re.escape(f"from {before} to {after}")):
        states.move(declaration, after)
    assert declaration.state == before
    states.move(declaration, before)  # staying is no change
