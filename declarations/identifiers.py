"""Numbers customs and E-Port assign to a declaration list (CEB spec 202205 §2.11.4 p. 28).

- preNo (电子口岸编号): "B" + yyyyMMdd + 9-digit serial, 18 characters.
- invtNo (清单编号): 4-digit customs code + 4-digit year + 1-digit I/E mark + serial; 18
  characters for import (9-digit serial), up to 20 for export (11-digit serial since 2022).
  The mark's digits are not stated by the spec; danchuang uses 1 for import and 0 for export.
"""

from __future__ import annotations

from datetime import date

from declarations.messages import Direction

IE_MARK = {Direction.IMPORT: "1", Direction.EXPORT: "0"}


def pre_no(day: date, serial: int) -> str:
    if not 0 <= serial < 10**9:
        raise ValueError("preNo serials run from 0 to 999,999,999")
    return f"B{day:%Y%m%d}{serial:09d}"


def invt_no(customs_code: str, year: int, direction: Direction, serial: int) -> str:
    if len(customs_code) != 4 or not customs_code.isdigit():
        raise ValueError(f"customs codes are 4 digits, not {customs_code!r}")
    width = 9 if direction is Direction.IMPORT else 11
    if not 0 <= serial < 10**width:
        raise ValueError(f"{direction.value} invtNo serials have {width} digits")
    return f"{customs_code}{year:04d}{IE_MARK[direction]}{serial:0{width}d}"
