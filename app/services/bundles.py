"""A whole set from one caller (``POST /api/v1/bundles``): checked as a whole before any of it
is stored, then sent in the order a set arrives in reality.

The caller must be allowed to send every message of the bundle (``app.security``); otherwise
nothing is stored. Each message is then submitted as a single one would be
(``app.services.submission``), orders, payments and waybills before the 清单, so that the
清单 meets a complete set.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.accounts import Principal
from app.errors import ServiceError
from app.security import ensure_may_send
from declarations import Regime, identify_document, send_rank


def in_sending_order(
    enterprise: Principal, documents: Sequence[bytes], regime: Regime | None
) -> list[bytes]:
    """The bundle's messages in sending order; raises 422 for a message that is not a CEB
    message danchuang knows, 403 for one the caller may not send (naming its number)."""
    ranks = [_rank(enterprise, data, n, regime) for n, data in enumerate(documents, start=1)]
    return [data for _, data in sorted(zip(ranks, documents, strict=True), key=lambda p: p[0])]


def _rank(enterprise: Principal, data: bytes, number: int, regime: Regime | None) -> int:
    """Identify one member and check the caller may send it; its rank in sending order."""
    document, findings = identify_document(data, regime, source=f"bundle document {number}")
    if document is None:
        reason = "; ".join(f.message_en for f in findings) or "not a CEB message"
        reason_zh = "; ".join(f.message_zh for f in findings) or "不是CEB报文"
        raise ServiceError(
            422,
            "bundle.unidentified",
            f"bundle document {number} is not a CEB message danchuang knows: {reason}",
            f"报文包第{number}份报文无法识别：{reason_zh}",
        )
    try:
        ensure_may_send(enterprise, document)
    except ServiceError as exc:
        raise ServiceError(
            exc.status,
            exc.code,
            f"bundle document {number}: {exc.message_en}",
            f"报文包第{number}份报文：{exc.message_zh}",
        ) from exc
    return send_rank(document.message.kind) * 1000 + number
