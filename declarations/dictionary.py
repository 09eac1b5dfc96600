"""The error-code dictionary: every rule id, what it means, and a passing and a failing example.

Built from ``declarations.findings.RULES`` (id, layer, severity, spec code, English and Chinese
meaning) and the per-rule examples under ``xsd/<regime>/examples/`` (for business rules: the
example folders, the lines that differ between the valid and the invalid file, and the message
the invalid one draws); parse and schema rules get a tiny inline example instead. Receipt status
codes and the lifecycle refusals complete it, so an integrator can look up any code a receipt
may carry. Published as ``docs/error-codes.json`` (the dashboard renders it) and
``docs/error-codes.md``; regenerate both with ``python -m declarations.dictionary`` (or
``danchuang conformance --dictionary FILE`` for the JSON alone). A test checks they are current.
"""

from __future__ import annotations

import difflib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from declarations import pipeline
from declarations import rules as _rules  # noqa: F401  (registers the business rules)
from declarations.after_list import judge_delivery, judge_return
from declarations.cancellation import judge_cancellation
from declarations.codes import FINAL, ReturnStatus
from declarations.findings import RULES, Layer, RuleInfo
from declarations.lifecycle import AppType, Held, Refusal, judge
from declarations.messages import Direction, Kind, Regime
from declarations.paths import xsd_root

# Tiny inline examples for the rules that have no example folder: (passing, failing). Parse
# examples are whole documents; schema examples are the fragment that matters.
_INLINE: dict[str, tuple[str, str]] = {
    "parse.empty": ("<ceb:CEB311Message …>…</ceb:CEB311Message>", ""),
    "parse.too-large": ("a message within the size limit", "a message over the size limit"),
    "parse.encoding": (
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="GBK"?>',
    ),
    "parse.not-xml": ("<ceb:CEB311Message …>", "orderNo=20260105001,goodsValue=100"),
    "parse.doctype": (
        "<ceb:CEB311Message …>",
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    ),
    "parse.entity": ("<ceb:note>R&amp;D</ceb:note>", "<ceb:note>&e;</ceb:note>"),
    "parse.too-deep": ("the CEB structure (under 10 levels)", "elements nested over 64 levels"),
    "parse.too-many-elements": (
        "up to 100 records per message",
        "a message with millions of elements",
    ),
    "parse.xinclude": (
        "<ceb:note>…</ceb:note>",
        '<xi:include href="secret.xml" xmlns:xi="http://www.w3.org/2001/XInclude"/>',
    ),
    "parse.malformed": ("<ceb:orderNo>A1</ceb:orderNo>", "<ceb:orderNo>A1</ceb:orderN>"),
    "schema.unknown-message": ("<ceb:CEB311Message …>", "<ceb:CEB999Message …>"),
    "schema.envelope": (
        "<dxp:SenderId>DXPENT0000000001</dxp:SenderId>",
        '<dxp:DxpMsg ver="1.0"><dxp:TransInfo> (no SenderId) …',
    ),
    "schema.envelope-data": (
        "<dxp:Data>PD94bWwg…</dxp:Data> (the message, Base64)",
        "<dxp:Data>not base64!</dxp:Data>",
    ),
    "schema.envelope-msg-type": (
        "<dxp:MsgType>CEB311Message</dxp:MsgType> around a CEB311Message",
        "<dxp:MsgType>CEB411Message</dxp:MsgType> around a CEB311Message",
    ),
    "signature.missing": (
        "…<ds:Signature>…</ds:Signature></ceb:CEB311Message> (danchuang sign)",
        "…</ceb:OrderHead></ceb:Order><ceb:BaseTransfer>…</ceb:BaseTransfer></ceb:CEB311Message>",
    ),
    "signature.malformed": (
        "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>MIIB…</ds:X509Certificate>…",
        "<ds:KeyInfo><ds:KeyName>0001</ds:KeyName></ds:KeyInfo> (no certificate)",
    ),
    "signature.algorithm-not-allowed": (
        '<ds:SignatureMethod Algorithm="http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3"/>',
        '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>',
    ),
    "signature.digest-mismatch": (
        "the message as signed",
        "the signed message with one character of orderNo changed",
    ),
    "signature.bad-value": (
        "SignatureValue made with the certificate's key",
        "SignatureValue made with another key than the certificate's",
    ),
    "signature.expired-certificate": (
        "a certificate valid today",
        "a certificate whose notAfter has passed",
    ),
    "signature.unknown-certificate": (
        "a certificate registered with POST /api/v1/enterprises/me/certificates",
        "a certificate nobody registered",
    ),
    "signature.other-enterprise": (
        "the sender's own registered certificate",
        "a certificate another enterprise registered",
    ),
    "schema.namespace": (
        '<ceb:CEB311Message xmlns:ceb="http://www.chinaport.gov.cn/ceb">',
        "<CEB311Message>",
    ),
    "schema.regime-direction": (
        "CEB303 (export) declared as 9710",
        "CEB311 (import) declared as 9710",
    ),
    "schema.regime-conflict": (
        "CEB621 with tradeMode 9610 declared as 9610",
        "CEB621 with tradeMode 9610 declared as 1210",
    ),
    "schema.missing-element": (
        "<ceb:OrderHead>…<ceb:orderNo>A1</ceb:orderNo>…",
        "<ceb:OrderHead>… (no orderNo) …",
    ),
    "schema.unexpected-element": (
        "one <ceb:BaseTransfer>",
        "<ceb:BaseTransfer>…</ceb:BaseTransfer> twice",
    ),
    "schema.missing-attribute": (
        '<ceb:CEB311Message guid="…" version="1.0">',
        '<ceb:CEB311Message guid="…">',
    ),
    "schema.unexpected-attribute": (
        '<ceb:CEB311Message guid="…" version="1.0">',
        '<ceb:CEB311Message guid="…" version="1.0" x="1">',
    ),
    "schema.too-long": (
        "<ceb:orderNo>A1</ceb:orderNo>",
        "<ceb:orderNo>(61 characters)</ceb:orderNo>",
    ),
    "schema.too-short": ("<ceb:orderNo>A1</ceb:orderNo>", "<ceb:orderNo></ceb:orderNo>"),
    "schema.length": ("<ceb:country>142</ceb:country>", "<ceb:country>1420</ceb:country>"),
    "schema.pattern": (
        "<ceb:appTime>20260105090000</ceb:appTime>",
        "<ceb:appTime>2026-01-05</ceb:appTime>",
    ),
    "schema.enumeration": ("<ceb:orderType>I</ceb:orderType>", "<ceb:orderType>X</ceb:orderType>"),
    "schema.type": (
        "<ceb:goodsValue>100.00</ceb:goodsValue>",
        "<ceb:goodsValue>lots</ceb:goodsValue>",
    ),
    "schema.digits": (
        "<ceb:goodsValue>100.00</ceb:goodsValue>",
        "<ceb:goodsValue>100.123456</ceb:goodsValue>",
    ),
    "schema.range": ("<ceb:gnum>1</ceb:gnum>", "<ceb:gnum>0</ceb:gnum>"),
    "schema.text-not-allowed": ("<ceb:OrderHead><ceb:guid>…", "<ceb:OrderHead>text<ceb:guid>…"),
    "schema.fixed": (
        "<ceb:currency>142</ceb:currency> (import)",
        "<ceb:currency>502</ceb:currency> (import)",
    ),
    "schema.invalid": (
        "a document the XSD accepts",
        "a document the XSD refuses for another reason",
    ),
}

_LAYER_ORDER = {layer: n for n, layer in enumerate(Layer)}


def _unsigned_lines(path: Path) -> list[str]:
    """An example's lines without its signature (it differs wherever the content does)."""
    text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if "<ds:Signature" not in line]


def _example_files(rule: RuleInfo, xsd: Path) -> dict[str, Any] | None:
    """The rule's example folders, the lines the failing file changes, and what it draws."""
    regimes = [r for r in Regime if (xsd / r.value / "examples" / rule.id).is_dir()]
    if not regimes:
        return None
    regime = regimes[0]
    folder = xsd / regime.value / "examples" / rule.id
    invalid = sorted((folder / "invalid").glob("*.xml"))
    report = pipeline.validate_set([(p.name, p.read_bytes()) for p in invalid])
    drawn = next((f for f in report.findings if f.rule == rule.id), None)
    changed: dict[str, Any] = {}
    for path in invalid:
        twin = folder / "valid" / path.name
        before = _unsigned_lines(twin) if twin.is_file() else []
        after = _unsigned_lines(path)
        diff = [d for d in difflib.ndiff(before, after) if d[:2] in ("- ", "+ ")]
        if diff and len(diff) <= 12:  # the targeted mutation, not a whole new file
            changed[path.name] = {
                "valid": [d[2:].strip() for d in diff if d.startswith("- ")],
                "invalid": [d[2:].strip() for d in diff if d.startswith("+ ")],
            }
    return {
        "regimes": [r.value for r in regimes],
        "valid": f"xsd/{regime.value}/examples/{rule.id}/valid/",
        "invalid": f"xsd/{regime.value}/examples/{rule.id}/invalid/",
        "changed": changed,
        "message_en": drawn.message_en if drawn else None,
        "message_zh": drawn.message_zh if drawn else None,
    }


def rule_entry(rule: RuleInfo, xsd: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.id,
        "layer": rule.layer.value,
        "severity": rule.severity.value,
        "spec_code": rule.spec_code,
        "meaning_en": rule.title_en,
        "meaning_zh": rule.title_zh,
    }
    files = _example_files(rule, xsd)
    if files is not None:
        entry["example"] = {"kind": "files", **files}
    elif rule.id in _INLINE:
        valid, invalid = _INLINE[rule.id]
        entry["example"] = {"kind": "inline", "valid": valid, "invalid": invalid}
    else:
        entry["example"] = None
    return entry


_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # any release time: the example judges lines


def _refusals() -> list[dict[str, str]]:
    """The lifecycle refusals, asked of ``declarations.lifecycle.judge`` itself."""
    situations = [
        ("duplicate", AppType.NEW, Held("other-guid", ReturnStatus.ACCEPTED)),
        ("not found", AppType.CHANGE, None),
        ("state forbids", AppType.CHANGE, Held("other-guid", ReturnStatus.CLOSED, True)),
    ]
    asked: list[tuple[Kind, str, Refusal | None]] = [
        (kind, situation, judge(kind, app_type, "new", held, direction=Direction.IMPORT).refusal)
        for kind in (Kind.ORDER, Kind.PAYMENT, Kind.WAYBILL, Kind.INVENTORY)
        for situation, app_type, held in situations
    ]
    released = int(ReturnStatus.RELEASED)
    after_list = [  # the messages after a 清单: declarations.cancellation, .after_list
        (Kind.CANCELLATION, "no such 清单", judge_cancellation(None)),
        (Kind.CANCELLATION, "cancelled already",
         judge_cancellation(int(ReturnStatus.ACCEPTED), cancelled=True)),
        (Kind.CANCELLATION, "state forbids", judge_cancellation(int(ReturnStatus.CLOSED))),
        (Kind.WAYBILL_STATUS, "no such waybill", judge_delivery(None, found=False)),
        (Kind.WAYBILL_STATUS, "status not S", judge_delivery(released, status="X")),
        (Kind.WAYBILL_STATUS, "delivered already", judge_delivery(released, delivered=True)),
        (Kind.REFUND, "no such 清单", judge_return(None, found=False)),
        (Kind.REFUND, "a line or goods the 清单 lacks",
         judge_return(released, released_at=_EPOCH, lines=[{"gnum": "9", "gcode": "0"}])),
    ]  # fmt: skip
    return [
        {
            "code": refusal.code,
            "document": kind.value,
            "situation": situation,
            "meaning_en": refusal.message_en,
            "meaning_zh": refusal.message_zh,
        }
        for kind, situation, refusal in [*asked, *after_list]
        if refusal is not None
    ]


def build(xsd: Path | None = None) -> dict[str, Any]:
    root = xsd or xsd_root()
    ordered = sorted(RULES.values(), key=lambda r: (_LAYER_ORDER[r.layer], r.id))
    return {
        "title": "danchuang error-code dictionary",
        "generated_by": "python -m declarations.dictionary",
        "rules": [rule_entry(r, root) for r in ordered],
        "return_status": [
            {
                "code": int(status),
                "meaning_en": status.meaning_en,
                "meaning_zh": status.meaning_zh,
                "final": status in FINAL,
            }
            for status in ReturnStatus
        ],
        "lifecycle_refusals": _refusals(),
    }


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def to_markdown(data: dict[str, Any]) -> str:
    out = [
        "# Error-code dictionary (错误代码字典)",
        "",
        "Generated by `python -m declarations.dictionary` from the rule registry and the",
        "per-rule examples; do not edit by hand. The same data, as JSON: `error-codes.json`.",
        "",
        "A finding names its `rule`; a refused document's receipt carries the rule's spec code",
        "where the spec has one (e.g. −621005), else 100 (海关退单).",
        "",
    ]
    for layer in Layer:
        entries = [r for r in data["rules"] if r["layer"] == layer.value]
        out += [f"## {layer.value}", ""]
        out += ["| rule | severity | spec code | meaning | 含义 |", "|---|---|---|---|---|"]
        for r in entries:
            out.append(
                f"| `{r['id']}` | {r['severity']} | {r['spec_code'] or ''} | "
                f"{_cell(r['meaning_en'])} | {_cell(r['meaning_zh'])} |"
            )
        out.append("")
        for r in entries:
            out += _example_md(r)
    out += ["## Receipt status codes (returnStatus)", "", "| code | meaning | 含义 | final |"]
    out.append("|---|---|---|---|")
    for s in data["return_status"]:
        final = "yes" if s["final"] else ""
        out.append(f"| {s['code']} | {s['meaning_en']} | {s['meaning_zh']} | {final} |")
    out += ["", "## Lifecycle refusals (resend, change, delete)", ""]
    out += ["| code | document | situation | example message | 含义 |", "|---|---|---|---|---|"]
    for f in data["lifecycle_refusals"]:
        out.append(
            f"| {f['code']} | {f['document']} | {f['situation']} | {_cell(f['meaning_en'])} | "
            f"{_cell(f['meaning_zh'])} |"
        )
    return "\n".join(out) + "\n"


def _example_md(rule: dict[str, Any]) -> list[str]:
    example = rule["example"]
    if example is None:
        return []
    lines = [f"### `{rule['id']}`", ""]
    if example["kind"] == "inline":
        lines += [f"- passes: `{example['valid']}`", f"- fails: `{example['invalid']}`", ""]
        return lines
    lines.append(
        f"Examples ({', '.join(example['regimes'])}): passing `{example['valid']}`, "
        f"failing `{example['invalid']}`."
    )
    for name, change in example["changed"].items():
        lines.append(f"In `{name}`:")
        lines += ["```diff", *("- " + v for v in change["valid"])]
        lines += [*("+ " + v for v in change["invalid"]), "```"]
    if example["message_en"]:
        lines.append(f"Reported as: {example['message_en']} / {example['message_zh']}")
    return [*lines, ""]


def write_json(path: Path) -> None:
    path.write_text(to_json(build()), encoding="utf-8")


def main(argv: list[str]) -> int:
    docs = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "docs"
    data = build()
    (docs / "error-codes.json").write_text(to_json(data), encoding="utf-8")
    (docs / "error-codes.md").write_text(to_markdown(data), encoding="utf-8")
    sys.stdout.write(f"wrote {len(data['rules'])} rules to {docs}/error-codes.json and .md\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
