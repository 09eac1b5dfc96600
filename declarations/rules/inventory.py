"""Rules on declaration lists (清单): import CEB621 and export CEB603 (CEB spec 202205 §3.9, §2.11).

The import currency 142 and buyerIdType 1 are enforced by our XSDs (schema layer). The spec's
-621xxx codes (table 7-2 pp. 114) are the import 清单's (CEB621): export 清单 rules carry none,
the table having no code of the export 清单.
"""

from __future__ import annotations

from collections.abc import Iterator

from declarations.findings import Finding, Layer, define_rule
from declarations.messages import Direction
from declarations.rules import limits
from declarations.rules._common import QuotaScope, Unit, lines_total
from declarations.rules.fields import check_fields
from declarations.rules.lines import check_gnum_sequence, check_line_totals

LINE_TOTAL = define_rule(
    "inventory.line-total",
    Layer.RULE,
    "清单 line totalPrice = price × qty",
    "清单商品总价 = 单价 × 数量",
)
GNUM_SEQUENCE = define_rule(
    "inventory.gnum-sequence",
    Layer.RULE,
    "Import 清单 line numbers are not repeated (CEB spec 202205 table 7-2 p. 114: -621027)",
    "请确认表体 gnum 无重复",
    spec_code="-621027",
)
EXPORT_GNUM_SEQUENCE = define_rule(
    "inventory.export-gnum-sequence",
    Layer.RULE,
    "Export 清单 line numbers are not repeated (CEB spec 202205 p. 30: 从1开始连续序号; the "
    "table 7-2 code -621027 is the import 清单's)",
    "出口清单商品序号不得重复",
)
GNUM_GAP = define_rule(
    "inventory.gnum-gap",
    Layer.RULE,
    "清单 line numbers run from 1 without gaps (CEB spec 202205 p. 84, export p. 30: "
    "从1开始连续序号)",
    "清单商品序号从1开始连续编号",
)
IE_FLAG = define_rule(
    "inventory.ie-flag",
    Layer.RULE,
    "ieFlag names the message's direction: I on the import 清单 CEB621, E on the export 清单 "
    "CEB603 (CEB spec 202205 p. 82, p. 28)",
    "进出口标记应与报文一致：进口清单填 I，出口清单填 E",
)
DIRECT_TRANSPORT = define_rule(
    "inventory.direct-transport",
    Layer.RULE,
    "A direct-purchase (9610) import 清单 names trafNo, voyageNo and billNo (CEB spec 202205 "
    "p. 83: 直购进口必填)",
    "直购进口清单必填运输工具编号、航班航次号、提运单号",
)
PACK_NO = define_rule(
    "inventory.pack-no",
    Layer.RULE,
    "An import 清单's packNo is 1, the parcel (CEB spec 202205 p. 84: 件数为包裹数量，限定为“1”)",
    "进口清单件数为包裹数量，限定为1",
)
ASSURE_CODE = define_rule(
    "inventory.assure-code",
    Layer.RULE,
    "assureCode names the 清单's platform, e-commerce enterprise or carrier (ebpCode, ebcCode or "
    "logisticsCode) (CEB spec 202205 p. 82: 只限清单的电商平台企业、电商企业、物流企业)",
    "担保企业只限清单的电商平台企业、电商企业、物流企业",
)
STATISTICS_FLAG = define_rule(
    "inventory.statistics-flag",
    Layer.RULE,
    "An export 清单's statisticsFlag is A (简化申报) or B (汇总申报) (CEB spec 202205 p. 29)",
    "申报业务类型应为 A-简化申报 或 B-汇总申报",
)

_DIRECT = "9610"
_TRANSPORT_FIELDS = ("trafNo", "voyageNo", "billNo")
_GUARANTORS = ("ebpCode", "ebcCode", "logisticsCode")
_STATISTICS_FLAGS = ("A", "B")


def check_import_inventory(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    yield from check_fields(unit)
    yield from _check_ie_flag(unit, "I")
    yield from _check_import_head(unit)
    yield from check_line_totals(unit, LINE_TOTAL)
    yield from check_gnum_sequence(unit, GNUM_SEQUENCE, GNUM_GAP)
    value = limits.transaction_value(unit)
    yield from limits.check_single_transaction(unit, limits.SINGLE_TRANSACTION, value, None)
    yield from limits.check_annual(unit, scope, limits.purchase_of(unit, value))


def check_export_inventory(unit: Unit, scope: QuotaScope) -> Iterator[Finding]:
    yield from check_fields(unit)
    yield from _check_ie_flag(unit, "E")
    flag = unit.head.text("statisticsFlag")
    if flag is not None and flag not in _STATISTICS_FLAGS:
        yield unit.finding(
            STATISTICS_FLAG,
            unit.head,
            "statisticsFlag",
            f"statisticsFlag {flag!r} is not A (simplified) or B (consolidated declaration)",
            f"申报业务类型 {flag!r} 不是 A-简化申报 或 B-汇总申报",
        )
    yield from check_line_totals(unit, LINE_TOTAL)
    yield from check_gnum_sequence(unit, EXPORT_GNUM_SEQUENCE, GNUM_GAP)
    yield from limits.check_b2b_list_route(unit, lines_total(unit.lines))


def _check_ie_flag(unit: Unit, wanted: str) -> Iterator[Finding]:
    flag = unit.head.text("ieFlag")
    if flag is None or flag == wanted:
        return
    direction = Direction.IMPORT if wanted == "I" else Direction.EXPORT
    yield unit.finding(
        IE_FLAG,
        unit.head,
        "ieFlag",
        f"ieFlag {flag!r} on an {direction.value} 清单 ({unit.doc.message.code}): it must be "
        f"{wanted}",
        f"进出口标记 {flag!r} 与报文不符（{unit.doc.message.code}），应为 {wanted}",
    )


def _check_import_head(unit: Unit) -> Iterator[Finding]:
    head = unit.head
    if head.text("tradeMode") == _DIRECT:
        for name in _TRANSPORT_FIELDS:
            if head.text(name) is None:
                yield unit.finding(
                    DIRECT_TRANSPORT,
                    head,
                    name,
                    f"a direct-purchase (9610) import 清单 must name {name}",
                    f"直购进口清单必填 {name}",
                )
    pack_no = head.decimal("packNo")
    if pack_no is not None and pack_no != 1:
        yield unit.finding(
            PACK_NO,
            head,
            "packNo",
            f"packNo {head.text('packNo')} on an import 清单: it is the parcel, always 1",
            f"进口清单件数 {head.text('packNo')}，应为包裹数量1",
        )
    assure = head.text("assureCode")
    parties = [code for code in (head.text(n) for n in _GUARANTORS) if code is not None]
    if assure is not None and parties and assure not in parties:
        yield unit.finding(
            ASSURE_CODE,
            head,
            "assureCode",
            f"assureCode {assure} is none of the 清单's ebpCode, ebcCode or logisticsCode "
            f"({', '.join(parties)})",
            f"担保企业 {assure} 不是清单的电商平台、电商企业或物流企业（{'、'.join(parties)}）",
        )
