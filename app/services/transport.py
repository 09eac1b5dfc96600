"""Transport envelopes on the service's side: whose envelope a message may come in, what the
document keeps of it, and receipts answered in kind (CEB spec 202205 §4-5; the core opens the
envelope: ``declarations.envelope``).

- The envelope's ``TransInfo/SenderId`` must be the sending enterprise's registered DXP id
  (``PUT /api/v1/enterprises/me/dxp-id``): else 403, nothing stored.
- A document that came in an envelope keeps its kind, CopMsgId and SenderId; its receipts
  are then answered in a terminal-node ``DxpMsg`` from customs (``CUSTOMS_DXP_ID``) to that
  sender, with ``MsgType`` the receipt's root.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from lxml import etree

from app.accounts import Principal
from app.db.models import DocumentRow
from app.errors import ServiceError
from declarations import Certificate, Envelope, PrivateKey, seal, sign_message

# The sandbox customs node's DXP id: the SenderId of the envelopes danchuang answers in.
CUSTOMS_DXP_ID = "DXPDANCHUANG0001"


def ensure_sender(enterprise: Principal, envelope: Envelope | None) -> None:
    """An envelope must name its sender's registered DXP id (403 otherwise)."""
    if envelope is None or not envelope.sender_id or envelope.sender_id == enterprise.dxp_id:
        return
    registered = enterprise.dxp_id
    raise ServiceError(
        403,
        "access.not_your_dxp_id",
        f"TransInfo/SenderId {envelope.sender_id} is not your registered DXP id "
        f"({registered or 'none registered: PUT /api/v1/enterprises/me/dxp-id'})",
        f"TransInfo/SenderId {envelope.sender_id} 不是贵企业登记的数据交换平台ID"
        f"（{registered or '尚未登记：PUT /api/v1/enterprises/me/dxp-id'}）",
    )


def keep(row: DocumentRow, envelope: Envelope | None) -> None:
    """What the document keeps of the envelope it came in."""
    if envelope is not None:
        row.envelope = envelope.kind
        row.cop_msg_id = envelope.cop_msg_id[:255] or None
        row.dxp_sender = envelope.sender_id[:16] or None


def in_kind(
    row: DocumentRow, receipt: bytes, signer: tuple[PrivateKey, Certificate] | None = None
) -> bytes:
    """A receipt message as the document's sender gets it: bare for a bare message, in a
    ``DxpMsg`` for one that came in an envelope, signed by ``signer`` (customs: the receipt
    messages' own schemas hold no signature, the envelope's does, CEB spec 202205 §4.3)."""
    if row.envelope is None or not row.dxp_sender:
        return receipt
    sealed = seal(
        receipt,
        cop_msg_id=str(uuid.uuid4()).upper(),
        sender_id=CUSTOMS_DXP_ID,
        receiver_ids=(row.dxp_sender,),
        msg_type=etree.QName(etree.fromstring(receipt)).localname,
        created=datetime.now(UTC),
    )
    if signer is None:
        return sealed
    key, certificate = signer
    return sign_message(sealed, key, certificate)
