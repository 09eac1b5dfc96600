"""The import sets ``benchmarks/validate.py`` times: order CEB311 + payment CEB411 + waybill
CEB511, each built from the first record of the official 202205 sample of its message and made
valid (lines that add up, a goods value under the 5,000 CNY limit, payer = buyer, the waybill's
consignee = the order's), with orderNo, payTransactionId, logisticsNo and guids varied per set.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from declarations import CEB_NS

_C = "{" + CEB_NS + "}"

# The values that make one set consistent; each key is a field name inside the record.
ORDER_HEAD = {
    "orderNo": "@ORDER@",
    "goodsValue": "350",
    "freight": "10",
    "discount": "0",
    "taxTotal": "0",
    "acturalPaid": "360",
    "buyerIdNumber": "110101199003074514",
    "buyerName": "张三",
    "payCode": "1101110323",
    "payTransactionId": "@PAY@",
    "consignee": "张三",
    "consigneeTelephone": "13800138000",
    "consigneeAddress": "北京市海淀区中关村大街1号",
}
ORDER_LINES = [
    {"gnum": "1", "qty": "2", "price": "100", "totalPrice": "200"},
    {"gnum": "2", "qty": "1", "price": "150", "totalPrice": "150"},
]
PAYMENT_HEAD = {
    "payCode": "1101110323",
    "payTransactionId": "@PAY@",
    "ebpCode": "1105910159",
    "orderNo": "@ORDER@",
    "payerIdNumber": "110101199003074514",
    "payerName": "张三",
    "amountPaid": "360",
}
WAYBILL_HEAD = {
    "logisticsNo": "@WAYBILL@",
    "orderNo": "@ORDER@",
    "freight": "10",
    "insuredFee": "0",
    "weight": "1.5",
    "packNo": "1",
    "consignee": "张三",
    "consigneeTelephone": "13800138000",
    "consigneeAddress": "北京市海淀区中关村大街1号",
}


def _set_fields(parent: etree._Element, values: dict[str, str]) -> None:
    for name, value in values.items():
        node = parent.find(_C + name)
        if node is None:
            raise SystemExit(f"the official sample has no {name} under {parent.tag}")
        node.text = value


def _first_record_only(root: etree._Element, record: str) -> etree._Element:
    records = root.findall(_C + record)
    for extra in records[1:]:
        root.remove(extra)
    for signature in root.findall("{http://www.w3.org/2000/09/xmldsig#}Signature"):
        root.remove(signature)  # the values change, so the sample's signature would not verify
    return records[0]


def _template(path: Path, record: str, fill: Callable[[etree._Element], None]) -> bytes:
    root = etree.parse(str(path)).getroot()
    fill(_first_record_only(root, record))
    root.set("guid", "@GUID@")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _order(record: etree._Element) -> None:
    _set_fields(record.find(_C + "OrderHead"), ORDER_HEAD)  # type: ignore[arg-type]
    lines = record.findall(_C + "OrderList")
    for extra in lines[len(ORDER_LINES) :]:
        record.remove(extra)
    for line, values in zip(lines, ORDER_LINES, strict=False):
        _set_fields(line, values)


def templates(reference: Path) -> list[bytes]:
    samples = reference / "samples" / "import"
    return [
        _template(samples / "CEB311Message.xml", "Order", _order),
        _template(
            samples / "CEB411Message.xml",
            "Payment",
            lambda r: _set_fields(r.find(_C + "PaymentHead"), PAYMENT_HEAD),  # type: ignore[arg-type]
        ),
        _template(
            samples / "CEB511Message.xml",
            "Logistics",
            lambda r: _set_fields(r.find(_C + "LogisticsHead"), WAYBILL_HEAD),  # type: ignore[arg-type]
        ),
    ]


def build_sets(reference: Path, count: int) -> list[list[bytes]]:
    """``count`` valid import sets, differing in their numbers and guids."""
    shapes = templates(reference)
    sets = []
    for n in range(count):
        numbers = {
            b"@ORDER@": f"ORD{20260000000 + n}".encode(),
            b"@PAY@": f"PAY{20260000000 + n}".encode(),
            b"@WAYBILL@": f"LP{20260000000 + n}".encode(),
        }
        docs = []
        for shape in shapes:
            doc = shape.replace(b"@GUID@", str(uuid.UUID(int=n * 3 + len(docs))).upper().encode())
            for placeholder, value in numbers.items():
                doc = doc.replace(placeholder, value)
            docs.append(doc)
        sets.append(docs)
    return sets
