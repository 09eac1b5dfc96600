"""API keys, and who may send which CEB message.

Keys look like ``dck_1a2b3c4d_<43 random url-safe characters>``. The first 12 characters (the
prefix) are stored in clear to find the key's row and to show in listings; the database keeps
only the SHA-256 of the whole key. A plain (unsalted, fast) hash is enough because the key holds
256 random bits: there is nothing to guess, unlike a password.

The sender rule mirrors the real single window: the enterprise that transmits a message must be
the ``copCode`` of its BaseTransfer *and* one of the parties the message names in its sender
fields (``declarations.messages.MessageType.sender_fields``), in the role that field stands for
— a carrier may send a waybill naming it as ``logisticsCode``, not an order. That is decided
from the message alone; whether it may touch the set the message names (change or withdraw a
document another enterprise sent, or join a set that names someone else in its role) is decided
against the stored set by ``app.services.authority`` (``access.not_the_sender``,
``access.not_in_set``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from app.errors import ServiceError, forbidden
from declarations import BY_CODE, PARTY_FIELDS, SET_KINDS, Direction, Document, Kind

# The messages the live intake takes: a set's documents, and after the 清单 its cancellation
# (CEB623), the carrier's delivery record (CEB513), returns (CEB625) and the site's entry
# record (CEB711).
# The data messages the live service takes: a set's documents, what follows an import 清单, and
# the export goods' arrival, master waybill and departure, the export cancellation and return
# (and its tally), and the summary application (app.services.summaries).
_LIVE_AFTER_THE_LIST = {Kind.CANCELLATION, Kind.WAYBILL_STATUS, Kind.REFUND, Kind.SITE_ENTRY}
_LIVE_EXPORT_AFTER_THE_LIST = {
    Kind.ARRIVAL,
    Kind.DEPARTURE,
    Kind.CANCELLATION,
    Kind.MASTER_WAYBILL,
    Kind.REFUND,
    Kind.RETURN_TALLY,
    Kind.SUMMARY,
}
LIVE_MESSAGES = frozenset(
    m.code
    for m in BY_CODE.values()
    if m.kind in SET_KINDS
    or (m.direction is Direction.IMPORT and m.kind in _LIVE_AFTER_THE_LIST)
    or m.kind in _LIVE_EXPORT_AFTER_THE_LIST
)

KEY_SCHEME = "dck_"
PREFIX_LENGTH = len(KEY_SCHEME) + 8  # "dck_" + 8 hex characters


@dataclass(frozen=True, slots=True)
class NewKey:
    key: str  # shown once to its owner, never stored
    prefix: str
    key_hash: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> NewKey:
    prefix = KEY_SCHEME + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=prefix, key_hash=hash_key(key))


def key_prefix(key: str) -> str | None:
    """The lookup prefix of a well-formed key, or None when it cannot be one of ours."""
    if len(key) < PREFIX_LENGTH + 2 or not key.startswith(KEY_SCHEME):
        return None
    if key[PREFIX_LENGTH] != "_":
        return None
    return key[:PREFIX_LENGTH]


def key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(key), stored_hash)


class Sender(Protocol):
    """The enterprise sending a message (``app.accounts.Principal``)."""

    @property
    def code(self) -> str: ...
    @property
    def roles(self) -> Collection[str]: ...


def ensure_may_send(sender: Sender, document: Document, entrusted_by: Collection[str] = ()) -> None:
    """Raise 403 unless ``sender`` may transmit ``document`` (``check_sender``)."""
    problem = check_sender(sender.code, sender.roles, document, entrusted_by)
    if problem is not None:
        raise problem


def check_sender(
    code: str, roles: Collection[str], document: Document, entrusted_by: Collection[str] = ()
) -> ServiceError | None:
    """Why the enterprise ``code`` (holding ``roles``) may not send ``document``; None if it may.

    Every record of the message must name the enterprise in one of the message's sender
    fields, with the matching role; a message of up to 100 records is all or nothing. An
    express operator or postal enterprise (role ``express``) may instead send for a party that
    entrusted it: ``entrusted_by`` holds the codes of those parties, for this message
    (``app.services.entrustments``).
    """
    message = document.message
    if not message.sender_fields:
        return forbidden(
            "access.message_not_sendable",
            f"{message.code} is sent by customs, not by enterprises",
            f"{message.code}由海关发送，企业不能发送",
        )
    if message.code not in LIVE_MESSAGES:  # validated (POST /api/v1/validate), not yet cleared
        return ServiceError(
            422,
            "submission.not_live_yet",
            f"{message.code} ({message.name_en}) is known and validated, but the live service "
            "does not take it yet: check it with POST /api/v1/validate",
            f"{message.code}（{message.name_zh}）可校验，但实时申报尚不受理：请用 "
            "POST /api/v1/validate 校验",
        )
    transfer = document.base_transfer()
    cop_code = transfer.text("copCode") if transfer is not None else None
    if cop_code != code:
        return forbidden(
            "access.cop_code_mismatch",
            f"BaseTransfer/copCode is {cop_code or 'missing'}, but the API key belongs to {code}",
            f"传输企业代码(copCode)为{cop_code or '空'}，与API密钥所属企业{code}不一致",
        )
    if not document.records():
        return forbidden(
            "access.no_records",
            f"{message.code} holds no {message.record} record to check the sender against",
            f"{message.code}中没有{message.record}记录，无法核对发送企业",
        )
    for number, record in enumerate(document.records(), start=1):
        senders = message.senders(record.head.text)
        fields = " / ".join(senders)
        named = [f for f in senders if record.head.text(f) == code]
        if (
            not named
            and "express" in roles
            and any(record.head.text(f) in entrusted_by for f in senders)
        ):
            continue  # sent for a party that entrusted this sender with this message
        if not named:
            return forbidden(
                "access.not_a_party",
                f"record {number} of {message.code}: {code} is not the {fields} of the document",
                f"{message.code}第{number}条记录：企业{code}不是单证中的{fields}",
            )
        if not any(PARTY_FIELDS.get(f) in roles for f in named):
            wanted = " / ".join(PARTY_FIELDS.get(f, f) for f in named)
            return forbidden(
                "access.role_missing",
                f"{code} is named as {' / '.join(named)} but is not registered with role {wanted}",
                f"企业{code}在单证中为{' / '.join(named)}，但未登记{wanted}角色",
            )
    return None
