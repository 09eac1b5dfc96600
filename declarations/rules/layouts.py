"""What rules read of each message: the fields of its head (or flat record) and of its lines,
in XSD order (``Layout``), per message code. ``rules._common.Node`` reads only these."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from declarations.messages import CEB_NS

_CEB = "{" + CEB_NS + "}"


@dataclass(frozen=True)
class Layout:
    """The fields rules read from one kind of element (e.g. the CEB621 head), in XSD order.

    lxml is slow at one thing rules would otherwise do for every field: building the
    ``{namespace}name`` string of a child's tag. Rules run on documents that passed the schema,
    where each child stands in the XSD's sequence order. So ``Node`` reads a field by its
    position among all the children when the element holds the whole sequence
    (``sequences.Positions``); else it lets lxml pick the listed fields by tag (in C), and when
    as many are found as listed takes them in this order; only with a field missing does it
    read tags. A test checks the order against our schemas.
    """

    order: tuple[str, ...]

    @classmethod
    def of(cls, names: str) -> Layout:
        return cls(tuple(names.split()))

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(self.order)

    @cached_property
    def tags(self) -> tuple[str, ...]:
        return tuple(_CEB + name for name in self.order)


# Every field a rule or the reconciliation reads, per message (head or flat record) and for
# lines. ``Node`` extracts only these, and refuses to read any other field, so a new rule that
# forgets to list its field fails loudly in its tests instead of reading None.
HEAD_FIELDS: dict[str, Layout] = {
    code: Layout.of(names)
    for code, names in {
        "CEB311": "appType orderType orderNo ebpCode ebcCode goodsValue freight discount taxTotal "
        "acturalPaid currency buyerName buyerIdNumber consignee consigneeTelephone "
        "consigneeAddress",
        "CEB411": "appType orderNo ebpCode payerIdNumber payerName amountPaid currency",
        "CEB511": "appType logisticsCode logisticsNo orderNo currency consignee consigneeAddress "
        "consigneeTelephone",
        "CEB621": "appType appTime orderNo ebpCode ebcCode logisticsNo logisticsCode assureCode "
        "emsNo ieFlag declTime customsCode portCode buyerIdNumber buyerName tradeMode trafNo "
        "voyageNo billNo country freight insuredFee currency packNo",
        "CEB303": "appType orderType orderNo ebpCode ebcCode goodsValue freight currency",
        "CEB403": "appType ebpCode orderNo charge currency",
        "CEB505": "appType logisticsCode logisticsNo currency",
        "CEB625": "appType orderNo ebpCode invtNo",
        # a site entry: when the goods entered (app.services.site_entries)
        "CEB711": "appType appTime operatorCode logisticsCode",
        "CEB603": "appType customsCode ebpCode orderNo logisticsCode logisticsNo ieFlag portCode "
        "statisticsFlag ebcCode tradeMode trafMode trafName voyageNo billNo country fCurrency "
        "iCurrency",
        # the export goods at the site: when they arrived, when they left, and whose they are
        # (app.services.arrivals, app.services.departures)
        "CEB507": "appType appTime operatorCode logisticsCode msgCount msgSeqNo",
        "CEB509": "appType logisticsCode leaveTime msgCount msgSeqNo",
        # a master waybill: the transport it supplies (app.services.master_waybills)
        "CEB607": "appType trafMode trafName voyageNo billNo logisticsCode msgCount msgSeqNo",
        # an export return: its trade mode (app.services.export_returns)
        "CEB213": "appType ebpCode ebcCode logisticsNo logisticsCode invtNo tradeMode ieFlag "
        "country",
        # the rest of the export messages after the 清单 (rules.export_after)
        "CEB605": "appType reason",
        "CEB215": "appType ieFlag",
        # a summary application: its period, its flags and the broker of the 报关单 it forms
        # (app.services.summaries)
        "CEB701": "appType agentName declAgentCode declAgentName startTime endTime summaryFlag "
        "itemNameFlag msgCount msgSeqNo",
    }.items()
}
LINE_FIELDS: dict[str, Layout] = {
    "CEB311": Layout.of("gnum itemName unit qty price totalPrice currency country"),
    "CEB303": Layout.of("gnum itemNo unit currency qty price totalPrice"),
    "CEB621": Layout.of(
        "gnum itemRecordNo gcode gname country currency qty unit unit1 unit2 price totalPrice"
    ),
    # a return names the 清单's lines it sends back (app.services.returns)
    "CEB625": Layout.of("gnum gcode gname qty unit"),
    # a site entry lists the waybills that entered (app.services.site_entries)
    "CEB711": Layout.of("gnum logisticsNo"),
    "CEB603": Layout.of("gnum itemNo gcode country currency qty unit unit1 unit2 price totalPrice"),
    # the parcels that arrived at the site, or left China (app.services.arrivals, departures)
    "CEB507": Layout.of("gnum logisticsNo"),
    "CEB509": Layout.of("gnum logisticsNo"),
    # the parcels a master waybill binds (app.services.master_waybills)
    "CEB607": Layout.of("gnum logisticsNo invtNo"),
    # what a summary names (rules.export_after)
    "CEB701": Layout.of("invtNo"),
    # an export return names the 清单's lines it brings back (app.services.export_returns)
    "CEB213": Layout.of("gnum gcode qty"),
}
NO_FIELDS = Layout(())
