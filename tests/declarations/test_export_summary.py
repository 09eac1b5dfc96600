"""The export summary declaration (汇总申报): which 清单 form which 报关单 under
海关总署公告2018年第194号 item (十), which are refused, and the CEB792 summary result, valid
against the official XSD.

The 清单 are the first record of the official CEB603 sample, with fields changed one at a time.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from declarations.document import ceb
from declarations.export_summary import (
    DEC_STATE_FORMED,
    ItemKey,
    Period,
    RefusalReason,
    Summary,
    SummaryGroup,
    SummaryList,
    build_summary_result,
    decl_seq_no,
    sum_no,
    summarise,
    summary_list_of,
)
from declarations.identifiers import invt_no
from declarations.messages import Direction
from declarations.parsing import parse_xml
from declarations.pipeline import validate

MAY = Period.month(2026, 5)
CLOSED = datetime(2026, 5, 10, 12, 0)
N1, N2, N3 = (invt_no("1500", 2026, Direction.EXPORT, serial) for serial in (1, 2, 3))


@pytest.fixture(scope="module")
def record(official_dir: Path) -> etree._Element:
    """The first Inventory record of the official CEB603 sample, parsed by the hardened parser."""
    path = official_dir / "samples" / "export" / "CEB603Message.xml"
    parsed = parse_xml(path.read_bytes(), source=path.name)
    assert parsed.root is not None, parsed.findings
    first = parsed.root.find(ceb("Inventory"))
    assert first is not None
    return first


def variant(
    record: etree._Element,
    number: str | None,
    *,
    head: Mapping[str, str | None] = {},
    lines: Sequence[Mapping[str, str | None]] | None = None,
) -> etree._Element:
    """A copy of ``record`` declared B with the invtNo ``number``, the head's fields changed
    (None removes one) and, when given, one line per mapping of changes to the sample's line."""
    changed = copy.deepcopy(record)
    top = changed.find(ceb("InventoryHead"))
    assert top is not None
    number_node = etree.Element(ceb("invtNo"))
    cop_no = top.find(ceb("copNo"))
    assert cop_no is not None
    cop_no.addnext(number_node)  # where the spec puts it (§2.11.4 p. 28); customs assigns it
    values: dict[str, str | None] = {"statisticsFlag": "B", **head}
    if number is not None:
        values["invtNo"] = number
        values.setdefault("logisticsNo", "L" + number[-9:])
    _change(top, values)
    if not number_node.text:
        top.remove(number_node)
    if lines is not None:
        template = changed.find(ceb("InventoryList"))
        assert template is not None
        for old in changed.findall(ceb("InventoryList")):
            changed.remove(old)
        for gnum, changes in enumerate(lines, start=1):
            line = copy.deepcopy(template)
            _change(line, {"gnum": str(gnum), **changes})
            changed.append(line)
    return changed


def _change(element: etree._Element, values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        node = element.find(ceb(name))
        assert node is not None, name
        if value is None:
            element.remove(node)
        else:
            node.text = value


def make(
    record: etree._Element,
    number: str,
    *,
    closed: datetime = CLOSED,
    head: Mapping[str, str | None] = {},
    lines: Sequence[Mapping[str, str | None]] | None = None,
) -> SummaryList:
    return summary_list_of(variant(record, number, head=head, lines=lines), closed_at=closed)


def run(
    lists: Sequence[SummaryList],
    flag: str = "1",
    name_flag: str = "0",
    summarised: frozenset[str] = frozenset(),
) -> Summary:
    return summarise(
        lists, summary_flag=flag, item_name_flag=name_flag, period=MAY, summarised=summarised
    )


def test_the_official_record_reads_as_the_summary_sees_it(record: etree._Element) -> None:
    one = summary_list_of(record, closed_at=CLOSED, invt_no=N1)
    assert (one.invt_no, one.logistics_no, one.customs_code) == (N1, "L2018050700001", "1500")
    assert (one.ebc_code, one.owner_code, one.agent_code) == ("1105910159",) * 3
    assert (one.traf_mode, one.country, one.port_code) == ("0", "001", "1501")
    assert one.statistics_flag == "A"  # the sample is a simplified declaration
    assert (one.gross_weight, one.net_weight) == (Decimal("80.25"), Decimal("70.25"))
    [line] = one.lines
    assert (line.gnum, line.gcode, line.item_name) == (1, "8541401000", "小米盒子")
    assert (line.country, line.currency) == ("116", "142")


def test_a_record_must_carry_what_the_summary_reads(record: etree._Element) -> None:
    with pytest.raises(ValueError, match="InventoryHead/invtNo is required"):
        summary_list_of(record, closed_at=CLOSED)  # the sample leaves invtNo to customs
    with pytest.raises(ValueError, match=r"invtNo is .*, not"):
        summary_list_of(variant(record, N1), closed_at=CLOSED, invt_no=N2)
    with pytest.raises(ValueError, match="InventoryHead/ownerCode is required"):
        make(record, N1, head={"ownerCode": None})
    with pytest.raises(ValueError, match="InventoryHead/grossWeight is not a number"):
        make(record, N1, head={"grossWeight": "heavy"})
    with pytest.raises(ValueError, match="InventoryList/currency is required"):
        make(record, N1, lines=[{"currency": None}])
    with pytest.raises(ValueError, match="a 清单 has lines"):
        make(record, N1, lines=[])
    with pytest.raises(ValueError, match="Inventory record"):
        summary_list_of(etree.Element(ceb("Order")), closed_at=CLOSED, invt_no=N1)


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("ebcCode", "1105910160"),  # 收发货人
        ("trafMode", "5"),  # 运输方式
        ("country", "502"),  # 运抵国
        ("portCode", "1502"),  # 出境关别
        ("customsCode", "1501"),  # 申报地海关 (danchuang's: one customs per 报关单)
    ],
)
def test_each_head_condition_splits_the_declaration(
    record: etree._Element, field: str, other: str
) -> None:
    same = run([make(record, N1), make(record, N2)])
    assert [[one.invt_no for one in group.lists] for group in same.groups] == [[N1, N2]]
    assert not same.refused
    split = run([make(record, N1), make(record, N2, head={field: other})])
    assert [[one.invt_no for one in group.lists] for group in split.groups] == [[N1], [N2]]


def test_the_owner_counts_only_under_summary_flag_2(record: etree._Element) -> None:
    lists = [make(record, N1), make(record, N2, head={"ownerCode": "NO"})]
    [single] = run(lists, flag="1").groups
    assert single.key.owner_code is None and len(single.lists) == 2
    by_owner = run(lists, flag="2").groups
    assert [group.key.owner_code for group in by_owner] == ["1105910159", "NO"]
    with pytest.raises(ValueError, match=r"summaryFlag must be 1 .* or 2"):
        run(lists, flag="3")


def test_the_item_name_counts_only_under_item_name_flag_1(record: etree._Element) -> None:
    lists = [make(record, N1), make(record, N2, lines=[{"itemName": "小米盒子增强版"}])]
    [by_class] = run(lists, name_flag="0").groups
    assert by_class.items == (ItemKey("116", "8541401000", "142", None),)
    [by_name] = run(lists, name_flag="1").groups
    assert [item.item_name for item in by_name.items] == ["小米盒子", "小米盒子增强版"]
    assert [line.gseqno for line in by_name.lines] == [1, 2]


@pytest.mark.parametrize(
    ("field", "other"),
    [("gcode", "8541409000"), ("currency", "502"), ("country", "502")],  # HS code, 币制, 目的国
)
def test_each_line_condition_splits_the_item(
    record: etree._Element, field: str, other: str
) -> None:
    one = make(record, N1, lines=[{}, {field: other}])
    [group] = run([one]).groups
    assert [line.gseqno for line in group.lines] == [1, 2]
    assert len(group.items) == 2


def test_a_line_without_country_takes_the_heads(record: etree._Element) -> None:
    one = make(record, N1, lines=[{"country": "001"}, {"country": None}])  # the head's is 001
    [group] = run([one]).groups
    assert group.items == (ItemKey("001", "8541401000", "142", None),)
    assert [line.gseqno for line in group.lines] == [1, 1]


def test_gseqno_merges_lines_across_lists_in_order_of_first_appearance(
    record: etree._Element,
) -> None:
    phones, boxes = {"gcode": "8517130000"}, {"gcode": "8541401000"}
    first = make(record, N1, closed=datetime(2026, 5, 3), lines=[phones, boxes])
    second = make(record, N2, closed=datetime(2026, 5, 20), lines=[boxes, phones, {}])
    [group] = run([second, first]).groups  # the order of closing counts, not the input's
    assert [item.gcode for item in group.items] == ["8517130000", "8541401000"]
    assert [(line.invt_no, line.gnum, line.gseqno) for line in group.lines] == [
        (N1, 1, 1),
        (N1, 2, 2),
        (N2, 1, 2),
        (N2, 2, 1),
        (N2, 3, 2),
    ]
    assert group.lines[0].logistics_no == "L" + N1[-9:]
    assert run([first, second]) == run([second, first])


def test_weights_are_summed_per_declaration(record: etree._Element) -> None:
    lists = [
        make(record, N1),
        make(record, N2, head={"grossWeight": "1.5", "netWeight": "1.25"}),
        make(record, N3, head={"portCode": "1502", "grossWeight": "3", "netWeight": "2"}),
    ]
    together, apart = run(lists).groups
    assert (together.gross_weight, together.net_weight) == (Decimal("81.75"), Decimal("71.50"))
    assert (apart.gross_weight, apart.net_weight) == (Decimal(3), Decimal(2))


def test_simplified_lists_are_never_summarised(record: etree._Element) -> None:
    summary = run([make(record, N1, head={"statisticsFlag": "A"}), make(record, N2)])
    assert [one.invt_no for one in summary.groups[0].lists] == [N2]
    [refused] = summary.refused
    assert (refused.invt_no, refused.reason) == (N1, RefusalReason.NOT_SUMMARY)
    assert "statisticsFlag is A" in refused.message_en and "非汇总申报" in refused.message_zh


def test_lists_closed_outside_the_period_are_refused(record: etree._Element) -> None:
    last_moment = datetime(2026, 5, 31, 23, 59, 59, 999000)
    lists = [
        make(record, N1, closed=datetime(2026, 4, 30, 23, 59, 59)),
        make(record, N2, closed=last_moment),
        make(record, N3, closed=datetime(2026, 6, 1)),
    ]
    summary = run(lists)
    assert [one.invt_no for one in summary.groups[0].lists] == [N2]
    assert [(one.invt_no, one.reason) for one in summary.refused] == [
        (N1, RefusalReason.OUTSIDE_PERIOD),
        (N3, RefusalReason.OUTSIDE_PERIOD),
    ]
    assert "2026-06-01 00:00:00" in summary.refused[1].message_en


def test_a_list_is_in_one_summary_only(record: etree._Element) -> None:
    summary = run(
        [make(record, N1), make(record, N2), make(record, N2)], summarised=frozenset({N1})
    )
    assert [one.invt_no for one in summary.groups[0].lists] == [N2]
    assert [(one.invt_no, one.reason) for one in summary.refused] == [
        (N1, RefusalReason.ALREADY_SUMMARISED),
        (N2, RefusalReason.DUPLICATE),
    ]


def test_a_line_without_a_10_digit_code_is_refused(record: etree._Element) -> None:
    summary = run([make(record, N1, lines=[{}, {"gcode": "8541"}])])
    assert summary.groups == ()
    [refused] = summary.refused
    assert refused.reason is RefusalReason.GCODE and "line 2" in refused.message_en


def test_the_period() -> None:
    december = Period.month(2026, 12)
    assert (december.start, december.end) == (
        datetime(2026, 12, 1),
        datetime(2026, 12, 31, 23, 59, 59),
    )
    with pytest.raises(ValueError, match="endTime must not be before startTime"):
        Period(datetime(2026, 5, 2), datetime(2026, 5, 1))


def test_the_numbers_have_the_samples_form() -> None:
    assert sum_no(date(2018, 5, 7), 1) == "S20180507000000001"
    assert decl_seq_no(date(2018, 5, 8), 1) == "S20180508000000001"
    with pytest.raises(ValueError, match="declSeqNo serials"):
        decl_seq_no(date(2018, 5, 8), 10**9)


def _result(group: SummaryGroup, **kw: str) -> bytes:
    return build_summary_result(
        group,
        sum_no=sum_no(date(2026, 6, 3), 7),
        decl_seq_no=kw.pop("decl_seq_no", decl_seq_no(date(2026, 6, 3), 8)),
        op_time=datetime(2026, 6, 3, 10, 11, 12, 13000),
        agent_code="1105910159",
        agent_name="东方物通科技(北京)有限公司",
        decl_agent_code="1105910161",
        decl_agent_name="报关行",
        **kw,
    )


@pytest.mark.parametrize("later", [{}, {"entry_id": "150020261000000123", "dec_state": "10"}])
def test_the_summary_result_is_valid_under_the_official_xsd(
    official_dir: Path, record: etree._Element, later: dict[str, str]
) -> None:
    official = etree.XMLSchema(etree.parse(str(official_dir / "xsd" / "ceb-export-202205.xsd")))
    lists = [make(record, N1, lines=[{}, {"gcode": "8517130000"}]), make(record, N2)]
    [group] = run(lists).groups
    xml = _result(group, **later)
    root = parse_xml(xml, source="CEB792").root
    assert root is not None
    assert official.validate(root), official.error_log
    ours = validate(xml, source="CEB792", regime="9610")  # and under danchuang's own schema
    assert ours.valid and not ours.findings, ours.findings
    assert root.tag == ceb("CEB792Message") and root.get("version") == "1.0"
    assert [etree.QName(child).localname for child in root] == ["SummaryResult"]
    head = root.find(f"{ceb('SummaryResult')}/{ceb('SummaryResultHead')}")
    assert head is not None
    assert head.findtext(ceb("opDate")) == "20260603101112013"
    assert head.findtext(ceb("decState")) == later.get("dec_state", DEC_STATE_FORMED)
    assert head.findtext(ceb("declAgentCode")) == "1105910161"
    assert (head.findtext(ceb("grossWeight")), head.findtext(ceb("netWeight"))) == (
        "160.50000",
        "140.50000",
    )
    rows = [
        [etree.QName(field).localname + "=" + (field.text or "") for field in node]
        for node in root.iter(ceb("SummaryResultList"))
    ]
    logistics = "logisticsNo=L" + N1[-9:]
    assert rows[0] == [f"invtNo={N1}", logistics, "gseqno=1", "gnum=1", "gcode=8541401000"]
    assert [row[2] for row in rows] == ["gseqno=1", "gseqno=2", "gseqno=1"]


def test_the_result_refuses_numbers_of_the_wrong_length(record: etree._Element) -> None:
    [group] = run([make(record, N1)]).groups
    with pytest.raises(ValueError, match=r"SummaryResultHead/declSeqNo .* must have 18 characters"):
        _result(group, decl_seq_no="S2026060300000008")
