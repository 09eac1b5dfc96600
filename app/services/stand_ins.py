"""danchuang playing a party: the messages it sends for the site and the carrier.

When no real party sends them (``app.services.real_senders``), the clearance engine has
danchuang send, on the virtual clock,

- the supervised site's entry record (入库明细单 CEB711, a 9610 import) or arrival record (运抵单
  CEB507, an export) when the model's goods reach the site (its arrival delay is the
  scenario's ``goods_arrival`` of the flow), sent by danchuang's own site operator (``SITE``,
  made at its first record);
- the carrier's delivery record (运单状态 CEB513) a delivery delay after an import's release,
  and when the model's export leaves (the flow's ``departure`` after release) its master
  waybill list (清单总分单 CEB607, unless one bound the parcel already) and its departure
  record (离境单 CEB509), each sent as the enterprise that sent the set's waybill.

Each message is built like the samples (``declarations.sample_followups``,
``declarations.sample_export_followups``) from what the set's documents told the service,
signed where its schema requires (all but the delivery record) by danchuang's stand-in signer
(``declarations.sample_signer``: a published RSA-1024 key, the size of the official samples'
certificates, that vouches for nothing a real party sends), checked (``submission.played``),
and goes through the same intake as a real one (``submission.take_played``): stored, answered,
acting on its declaration. The engine takes a transaction's messages of one sender together
(``app.engine.plays``): the site's records (``site_record``), and the carrier's (``delivery``,
``binding``, ``departure``), each built with its sender.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from lxml import etree
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import receipts
from app.accounts import Principal
from app.db.engine import transaction_state
from app.db.models import Declaration, DocumentRow, Enterprise, Role
from app.services import master_waybills, named_waybills, submission
from app.services.named_waybills import WAYBILL_CODES
from app.services.set_documents import current_of, facts_of
from app.services.set_documents import read_ahead as read_ahead_documents
from app.services.taking import Arrival
from declarations.sample_export_followups import (
    Voyage,
    arrival_record,
    departure_record,
    master_waybill_record,
)
from declarations.sample_followups import (
    Company,
    Conveyance,
    delivery_record,
    site_entry_record,
)
from declarations.samples import stand_in_signer

Played = tuple[Principal, Arrival]  # a carrier's message: its sender, and its record checked

_BEIJING = timezone(timedelta(hours=8), "CST")
# danchuang's own operator of the supervised site (监管场所经营人), the sender of its entries.
SITE = Company(
    "DCSITE0001", "danchuang 模拟监管作业场所 simulated supervised site", "DXPDCSITE0001"
)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(_BEIJING).strftime("%Y%m%d%H%M%S")


def _guid(declaration_id: int, what: str) -> str:
    """The same message, sent again for the same moment after a restart, has the same guid (a
    repeat); one refused and tried at another moment gets a guid of its own."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"danchuang:{declaration_id}:{what}")).upper()


# Built once: the engine asks for a company or two for every message it plays.
_ENTERPRISE = select(Enterprise).where(Enterprise.code == bindparam("code"))
_ENTERPRISES = select(Enterprise).where(
    Enterprise.code.in_(bindparam("codes", expanding=True))
    | Enterprise.id.in_(bindparam("ids", expanding=True))
)
_KNOWN = "danchuang.stand_ins.enterprises"  # its transaction's, in ``Session.info``


@dataclass
class _Known:
    """The enterprises a transaction's played messages name, read once each: by code (None:
    not registered) and by id. The intake of danchuang's messages changes none of them."""

    by_code: dict[str, Enterprise | None] = field(default_factory=dict)
    by_id: dict[int, Enterprise] = field(default_factory=dict)

    def remember(self, row: Enterprise) -> None:
        self.by_code[row.code] = row
        self.by_id[row.id] = row


def _known(session: Session) -> _Known:
    return transaction_state(session, _KNOWN, _Known)


def read_ahead(session: Session, declaration_ids: Collection[int]) -> None:
    """Read at once what danchuang's messages for these declarations will read: their sets'
    清单, waybills and orders (``set_documents.read_ahead``), the declarations of the waybills
    the messages name (``named_waybills.read_ahead``), the enterprises they name (the
    waybills' senders and carriers, the export 清单's declarants, danchuang's site) and the
    active webhooks of their senders (``receipts.read_hooks``)."""
    read_ahead_documents(session, declaration_ids)
    codes, ids, waybills = {SITE.code}, set(), []
    for declaration_id in declaration_ids:
        for waybill in (current_of(session, declaration_id, c) for c in WAYBILL_CODES):
            if waybill is not None:
                waybills.append(waybill)
                ids.add(waybill.sender_id)
                codes.add(waybill.logistics_code or "")
        inventory = current_of(session, declaration_id, "CEB603")
        if inventory is not None:
            codes.add(facts_of(inventory).key("agentCode") or "")
    named_waybills.read_ahead(session, waybills)
    known = _known(session)
    senders = set(ids)
    codes -= {""} | known.by_code.keys()
    ids -= known.by_id.keys()
    if codes or ids:
        for row in session.scalars(_ENTERPRISES, {"codes": sorted(codes), "ids": sorted(ids)}):
            known.remember(row)
        for code in codes:
            known.by_code.setdefault(code, None)
    # The messages' senders, whose webhooks are the subscribers of their messages' receipts.
    site = known.by_code.get(SITE.code)
    receipts.read_hooks(session, senders | ({site.id} if site is not None else set()))


def _enterprise(session: Session, code: str) -> Enterprise | None:
    known = _known(session)
    if code not in known.by_code:
        row = session.scalar(_ENTERPRISE, {"code": code})
        known.by_code[code] = row
        if row is not None:
            known.remember(row)
    return known.by_code[code]


def _sender(session: Session, sender_id: int) -> Enterprise:
    known = _known(session)
    if sender_id not in known.by_id:
        sender = session.get(Enterprise, sender_id)
        assert sender is not None  # a document's sender is a registered enterprise
        known.remember(sender)
    return known.by_id[sender_id]


def _company(session: Session, code: str, fallback: str) -> Company:
    row = _enterprise(session, code)
    name = row.name if row is not None else fallback
    dxp = row.dxp_id if row is not None and row.dxp_id else f"DXPENT{code}"[:30]
    return Company(code, name[:100], dxp)


def _carrier(session: Session, waybill: DocumentRow) -> tuple[Principal, Company] | None:
    """The enterprise that sent the set's waybill, as the carrier danchuang plays; None when an
    entrusted express operator sent it for the carrier (danchuang does not play that carrier)."""
    sender = _sender(session, waybill.sender_id)
    carrier = _company(session, waybill.logistics_code or sender.code, sender.name)
    if sender.code != carrier.code:
        return None
    return Principal.of(sender), carrier


def _sent(sender: Principal, root: etree._Element) -> Arrival:
    """The message ``root`` as ``sender`` sends it, checked: written as built, the bytes its
    signature signed (``declarations.samples.signature``)."""
    code = etree.QName(root).localname.removesuffix("Message")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return submission.played(sender, data, source=f"danchuang's {code}")


def site_operator(session: Session) -> Principal:
    """danchuang's site operator, registered at its first entry record."""
    row = _enterprise(session, SITE.code)
    if row is None:
        row = Enterprise(code=SITE.code, name=SITE.name, roles=[Role.OPERATOR.value])
        try:  # the engine's partitions, in two processes, may register it at the same moment
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # the other's is committed: read it
            row = session.scalars(_ENTERPRISE, {"code": SITE.code}).one()
        _known(session).remember(row)
    return Principal.of(row)


def enter_site(session: Session, declaration: Declaration, at: datetime) -> bool:
    """Send the site's entry record (import) or arrival record (export) of the declaration's
    waybill, come ``at`` (virtual clock); False when there is nothing to record (no waybill,
    or its goods are at the site already)."""
    arrival = site_record(session, declaration, at)
    if arrival is None:
        return False
    submission.take_played(session, site_operator(session), [arrival])
    return True


def site_record(session: Session, declaration: Declaration, at: datetime) -> Arrival | None:
    """The site's entry or arrival record ``enter_site`` sends, checked, not taken yet."""
    if declaration.direction == "export":
        return _arrive(session, declaration, at)
    waybill = current_of(session, declaration.id, "CEB511")
    inventory = current_of(session, declaration.id, "CEB621")
    if waybill is None or declaration.site_entered_at is not None:
        return None
    if not waybill.logistics_code or not waybill.logistics_no:
        return None  # a waybill the entry could not name
    carrier_code = waybill.logistics_code
    head = facts_of(inventory).head if inventory is not None else {}
    conveyance = Conveyance(
        "5",  # air (航空运输): the direct-purchase parcels of the shipped sites fly in
        head.get("trafNo") or "0",
        head.get("voyageNo") or "0",
        head.get("billNo") or "0",
    )
    root = site_entry_record(
        SITE,
        _company(session, carrier_code, "承运人 carrier"),
        head.get("customsCode") or "0000",
        conveyance,
        [waybill.logistics_no],
        when=_stamp(at),
        guid=_guid(declaration.id, f"site-entry@{at.isoformat()}"),
        signer=stand_in_signer(),
    )
    return _sent(site_operator(session), root)


def delivery(session: Session, declaration: Declaration, at: datetime) -> Played | None:
    """The carrier's delivery record (CEB513): the buyer signed ``at`` (virtual clock); None
    when there is nothing to deliver (no waybill, sent for the carrier by an entrusted
    operator, or delivered already)."""
    waybill = current_of(session, declaration.id, "CEB511")
    if waybill is None or declaration.delivered_at is not None or not waybill.logistics_no:
        return None
    played = _carrier(session, waybill)
    if played is None:
        return None
    sender, carrier = played
    root = delivery_record(
        carrier,
        waybill.logistics_no,
        _stamp(at),
        guid=_guid(declaration.id, f"delivery@{at.isoformat()}"),
    )
    return sender, _sent(sender, root)


def _arrive(session: Session, declaration: Declaration, at: datetime) -> Arrival | None:
    """The site's arrival record (CEB507) of an export's parcel, arrived ``at``."""
    waybill = current_of(session, declaration.id, "CEB505")
    if waybill is None or declaration.site_entered_at is not None:
        return None
    if not waybill.logistics_code or not waybill.logistics_no:
        return None
    inventory = current_of(session, declaration.id, "CEB603")
    head = facts_of(inventory).head if inventory is not None else {}
    root = arrival_record(
        SITE,
        _company(session, waybill.logistics_code, "承运人 carrier"),
        head.get("customsCode") or "0000",
        [waybill.logistics_no],
        vehicle=f"DC{declaration.id % 10**8:08d}",  # the truck that brought it (a plate)
        bill_no=head.get("billNo"),
        when=_stamp(at),
        guid=_guid(declaration.id, f"arrival@{at.isoformat()}"),
        signer=stand_in_signer(),
    )
    return _sent(site_operator(session), root)


def binding(session: Session, declaration: Declaration, at: datetime) -> Played | None:
    """The carrier's master waybill list (CEB607) binding the released export's parcel
    to the vehicle or flight its 清单 names, or to danchuang's own (a 清单 that left them for
    later); None when there is nothing to bind (no waybill or 清单, sent for the carrier by an
    entrusted operator, or bound already)."""
    waybill = current_of(session, declaration.id, "CEB505")
    inventory = current_of(session, declaration.id, "CEB603")
    if waybill is None or inventory is None or not waybill.logistics_no:
        return None
    if master_waybills.bound_to(session, declaration.id) is not None:
        return None
    played = _carrier(session, waybill)
    if played is None:
        return None
    sender, carrier = played
    facts = facts_of(inventory)
    root = master_waybill_record(
        _company(session, facts.key("agentCode") or sender.code, "申报企业 declarant"),
        carrier,
        facts.key("customsCode") or "0000",
        _voyage_of(facts.head, declaration.id, at),
        [(waybill.logistics_no, inventory.invt_no)],
        gross_weight="0",
        when=_stamp(at),
        guid=_guid(declaration.id, f"master-waybill@{at.isoformat()}"),
        signer=stand_in_signer(),
    )
    return sender, _sent(sender, root)


def _voyage_of(head: Mapping[str, str | None], declaration_id: int, at: datetime) -> Voyage:
    """The 清单's vehicle or flight; where it left one for later (后置申报), danchuang's own:
    a flight of the day and a master waybill of the declaration's."""
    return Voyage(
        (head.get("trafMode") or "").strip() or "5",  # air (航空运输), as the samples fly
        (head.get("trafName") or "").strip() or "DC-FLIGHT",
        (head.get("voyageNo") or "").strip() or at.astimezone(_BEIJING).strftime("%Y%m%d"),
        (head.get("billNo") or "").strip() or f"DC{declaration_id:010d}",
    )


def departure(session: Session, declaration: Declaration, at: datetime) -> Played | None:
    """The carrier's departure record (CEB509): the released export's parcel left China
    ``at`` on the vehicle or flight its 清单 names (as bound: built after ``binding``'s list is
    taken); None when there is nothing to send (no waybill, sent for the carrier by an
    entrusted operator, or departed already)."""
    waybill = current_of(session, declaration.id, "CEB505")
    if waybill is None or not waybill.logistics_no or declaration.return_status == 899:
        return None
    played = _carrier(session, waybill)
    if played is None:
        return None
    sender, carrier = played
    inventory = current_of(session, declaration.id, "CEB603")
    head = facts_of(inventory).head if inventory is not None else {}
    root = departure_record(
        carrier,
        head.get("customsCode") or "0000",
        _voyage_of(head, declaration.id, at),
        [waybill.logistics_no],
        when=_stamp(at),
        guid=_guid(declaration.id, f"departure@{at.isoformat()}"),
        signer=stand_in_signer(),
    )
    return sender, _sent(sender, root)
