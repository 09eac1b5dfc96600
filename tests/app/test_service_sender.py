"""Who may send which CEB message: copCode of BaseTransfer and the message's sender fields."""

from __future__ import annotations

import pytest
from lxml import etree

from app.accounts import Principal
from app.errors import ServiceError
from app.security import check_sender, ensure_may_send
from declarations.document import Document
from declarations.messages import BY_CODE, CEB_NS

PLATFORM, SELLER, PAYER, CARRIER, BROKER = (
    "3301960101",
    "3301960102",
    "3301960103",
    "3301960104",
    "3301960105",
)


def build(code: str, records: list[dict[str, str]], cop_code: str | None) -> Document:
    """A CEB message of type ``code`` with one record per dict (fields of its head)."""
    message = BY_CODE[code]
    ns = "{" + CEB_NS + "}"
    root = etree.Element(ns + message.root, nsmap={"ceb": CEB_NS})
    root.set("guid", "4CDE1CFD-EDED-46B1-946C-B8022E42FC94")
    root.set("version", "1.0")
    for fields in records:
        record = etree.SubElement(root, ns + message.record)
        head = etree.SubElement(record, ns + message.head) if message.head else record
        for name, value in fields.items():
            etree.SubElement(head, ns + name).text = value
    if cop_code is not None:
        transfer = etree.SubElement(root, ns + "BaseTransfer")
        etree.SubElement(transfer, ns + "copCode").text = cop_code
        etree.SubElement(transfer, ns + "dxpMode").text = "DXP"
    # Through text and back, as a received document would be.
    parsed = etree.fromstring(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return Document(source="test.xml", root=parsed, message=message, direction=message.direction)


def who(code: str, *roles: str) -> Principal:
    return Principal(id=1, code=code, name="t", roles=roles, credit_class="general")


@pytest.mark.parametrize(
    ("message", "fields", "sender"),
    [
        ("CEB311", {"orderNo": "O1", "ebpCode": PLATFORM, "ebcCode": SELLER}, who(PLATFORM, "ebp")),
        ("CEB311", {"orderNo": "O1", "ebpCode": PLATFORM, "ebcCode": SELLER}, who(SELLER, "ebc")),
        ("CEB411", {"payCode": PAYER, "ebpCode": PLATFORM}, who(PAYER, "pay")),
        ("CEB511", {"logisticsCode": CARRIER, "logisticsNo": "L1"}, who(CARRIER, "logistics")),
        ("CEB621", {"agentCode": BROKER, "ebcCode": SELLER}, who(BROKER, "agent")),
        ("CEB303", {"orderNo": "E1", "ebpCode": PLATFORM, "ebcCode": SELLER}, who(SELLER, "ebc")),
        ("CEB403", {"payCode": PAYER}, who(PAYER, "pay", "ebp")),  # flat record, export
        ("CEB505", {"logisticsCode": CARRIER}, who(CARRIER, "logistics")),
        ("CEB603", {"agentCode": BROKER}, who(BROKER, "agent")),
    ],
)
def test_the_named_party_may_send(message: str, fields: dict[str, str], sender: Principal) -> None:
    document = build(message, [fields, fields], cop_code=sender.code)
    assert check_sender(sender.code, sender.roles, document) is None
    ensure_may_send(sender, document)  # does not raise


@pytest.mark.parametrize(
    ("message", "records", "cop_code", "sender", "code"),
    [
        # the carrier sends an order naming the platform and the seller
        ("CEB311", [{"ebpCode": PLATFORM, "ebcCode": SELLER}], CARRIER, who(CARRIER, "logistics"),
         "access.not_a_party"),
        # BaseTransfer says someone else transmits
        ("CEB311", [{"ebpCode": PLATFORM, "ebcCode": SELLER}], SELLER, who(PLATFORM, "ebp"),
         "access.cop_code_mismatch"),
        ("CEB411", [{"payCode": PAYER}], None, who(PAYER, "pay"), "access.cop_code_mismatch"),
        # one record of two names another payment company: all or nothing
        ("CEB411", [{"payCode": PAYER}, {"payCode": "9999999999"}], PAYER, who(PAYER, "pay"),
         "access.not_a_party"),
        # named as ebcCode, but registered only as a platform
        ("CEB311", [{"ebpCode": PLATFORM, "ebcCode": SELLER}], SELLER, who(SELLER, "ebp"),
         "access.role_missing"),
        # receipts come from customs
        ("CEB622", [{"agentCode": BROKER}], BROKER, who(BROKER, "agent"),
         "access.message_not_sendable"),
        ("CEB621", [], BROKER, who(BROKER, "agent"), "access.no_records"),
    ],
)  # fmt: skip
def test_others_are_refused_with_a_clear_403(
    message: str, records: list[dict[str, str]], cop_code: str | None, sender: Principal, code: str
) -> None:
    document = build(message, records, cop_code=cop_code)
    problem = check_sender(sender.code, sender.roles, document)
    assert problem is not None
    assert (problem.status, problem.code) == (403, code)
    assert problem.message_en and problem.message_zh
    with pytest.raises(ServiceError) as raised:
        ensure_may_send(sender, document)
    assert raised.value.code == code


def test_the_refusal_says_which_record_and_fields() -> None:
    document = build("CEB411", [{"payCode": PAYER}, {"payCode": "9999999999"}], cop_code=PAYER)
    problem = check_sender(PAYER, ("pay",), document)
    assert problem is not None
    assert "record 2 of CEB411" in problem.message_en and "payCode" in problem.message_en
    assert "第2条记录" in problem.message_zh
