"""What a receipt's ``returnStatus`` means, in Chinese and English.

Positive codes are the spec's receipt statuses (``declarations.codes.ReturnStatus``); -1 and -2
are the format-check receipt's (CEB900); other negative ones are business refusals, carried by
the rule that raised them (``RuleInfo.spec_code``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from declarations import FORMAT_STATUS_MEANINGS, ReturnStatus, dictionary


@dataclass(frozen=True, slots=True)
class Meaning:
    zh: str
    en: str
    tone: str  # a CSS hint: "ok", "warn", "bad" or "info"


_TONES = {
    ReturnStatus.CLOSED: "ok",
    ReturnStatus.RELEASED: "ok",
    ReturnStatus.ACCEPTED: "info",
    ReturnStatus.DECIDED: "info",
    ReturnStatus.INSPECTION: "warn",
    ReturnStatus.MANUAL_REVIEW: "warn",
    ReturnStatus.REJECTED: "bad",
    ReturnStatus.SEND_FAILED: "bad",
    ReturnStatus.RETURNED: "bad",
}


@cache  # built from the rule registry and the shipped examples: fixed while the service runs
def error_dictionary() -> dict[str, Any]:
    """The error-code dictionary (``declarations.dictionary``, as ``docs/error-codes.json``)."""
    return dictionary.build()


@cache
def _by_spec_code() -> dict[int, tuple[str, str]]:
    # Several rules may share one spec code; the first one listed names it.
    data = error_dictionary()
    found: dict[int, tuple[str, str]] = {}
    for entry in [*data["lifecycle_refusals"], *data["rules"]]:
        code = entry.get("code") or entry.get("spec_code") or ""
        if code.startswith("-") and code[1:].isdigit():
            found.setdefault(int(code), (entry["meaning_zh"], entry["meaning_en"]))
    return found


def meaning(code: int | None) -> Meaning:
    if code is None:
        return Meaning("—", "no receipt yet", "info")
    if code in FORMAT_STATUS_MEANINGS:  # a CEB900: the format check refused the message
        zh, en = FORMAT_STATUS_MEANINGS[code]
        return Meaning(f"格式校验未通过 {zh}", f"format check: {en}", "bad")
    if code < 0:
        zh, en = _by_spec_code().get(code, ("业务校验未通过", "refused by a business check"))
        return Meaning(f"退单 {zh}", f"refused: {en}", "bad")
    try:
        status = ReturnStatus(code)
    except ValueError:
        return Meaning("未知回执状态", f"unknown status {code}", "info")
    tone = _TONES.get(status, "bad" if 500 < status < 600 else "info")
    return Meaning(status.meaning_zh, status.meaning_en, tone)
