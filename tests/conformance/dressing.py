"""Conformance documents dressed as a transport case asks: signed, in a DxpMsg."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from pathlib import Path

from lxml import etree

from app.conformance.offline.catalogue import Case
from declarations import seal
from declarations.messages import CEB_NS
from declarations.pki import Certificate, PrivateKey, issue_certificate, new_key
from declarations.xmldsig import sign_message

C = "{" + CEB_NS + "}"


def dxp_id_of(code: str) -> str:
    """The DXP id the tests register for an enterprise (its envelopes' SenderId)."""
    return f"DXP{code}"[:16]


@cache
def signer(code: str) -> tuple[PrivateKey, Certificate]:
    """The key and self-signed certificate the tests sign ``code``'s documents with."""
    key = new_key()
    cert = issue_certificate(issuer_key=key, issuer=None, subject_key=key, common_name=code,
                             organization=code)  # fmt: skip
    return key, cert


def cop_code(data: bytes) -> str:
    return next(etree.fromstring(data).iter(C + "copCode")).text or ""


def dress(target: Path, case: Case) -> None:
    """Sign and envelope the folder's documents as a transport case asks (``exhibit``)."""
    for path in sorted(target.glob("*.xml")):
        data = path.read_bytes()
        code = cop_code(data)
        if case.exhibit.signed:
            data = sign_message(data, *signer(code))
        if case.exhibit.transport:
            root = etree.fromstring(data)
            data = seal(
                data, cop_msg_id=str(uuid.uuid4()), sender_id=dxp_id_of(code),
                receiver_ids=("DXPEDCCEB0000002",), msg_type=etree.QName(root).localname,
                created=datetime(2026, 12, 5, 10, 0),
            )  # fmt: skip
        path.write_bytes(data)
