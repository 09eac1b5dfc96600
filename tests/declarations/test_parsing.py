"""The hardened parse step: each way a document can fail, with its rule id and location."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from declarations.findings import RULES, Layer
from declarations.parsing import UTF8_BOM, ParseLimits, parse_xml

CEB = "http://www.chinaport.gov.cn/ceb"
SMALL = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ceb:CEB411Message xmlns:ceb="{CEB}" '
    'guid="A" version="1.0">\n  <ceb:Payment><ceb:note>付款</ceb:note></ceb:Payment>\n'
    "</ceb:CEB411Message>\n"
).encode()


def only_rule(data: bytes, limits: ParseLimits | None = None) -> str:
    parsed = parse_xml(data, source="doc.xml", limits=limits or ParseLimits())
    assert parsed.root is None
    assert len(parsed.findings) == 1
    finding = parsed.findings[0]
    assert finding.layer is Layer.PARSE
    assert finding.source == "doc.xml"
    assert finding.message_en and finding.message_zh
    return finding.rule


def test_well_formed_document_parses_with_and_without_bom() -> None:
    for data in (SMALL, UTF8_BOM + SMALL, SMALL.replace(b' encoding="UTF-8"', b"")):
        parsed = parse_xml(data)
        assert parsed.findings == ()
        assert parsed.root is not None
        assert parsed.root.tag == f"{{{CEB}}}CEB411Message"
        assert parsed.root.sourceline == 2


@pytest.mark.parametrize("data", [b"", b"   \n\t ", UTF8_BOM])
def test_empty_input(data: bytes) -> None:
    assert only_rule(data) == "parse.empty"


def test_size_limit_is_configurable_and_checked_first() -> None:
    assert only_rule(SMALL, ParseLimits(max_bytes=100)) == "parse.too-large"
    assert parse_xml(SMALL, limits=ParseLimits(max_bytes=len(SMALL))).root is not None


@pytest.mark.parametrize(
    "data",
    [
        "<?xml version='1.0' encoding='GBK'?><a>中文</a>".encode("gbk"),
        '<?xml version="1.0" encoding="UTF-16"?><a>x</a>'.encode("utf-16"),
        "<a>x</a>".encode("utf-16-le"),
        "<a>x</a>".encode("utf-32"),
        '<?xml version="1.0" encoding="UTF-8"?><a>中文</a>'.encode("gbk"),
        b"<a>\xff\xfe</a>",
    ],
    ids=["declared-gbk", "utf16-bom", "utf16-no-bom", "utf32", "gbk-bytes-as-utf8", "bad-bytes"],
)
def test_anything_but_utf8_is_an_encoding_finding(data: bytes) -> None:
    assert only_rule(data) == "parse.encoding"


def test_invalid_utf8_is_located() -> None:
    parsed = parse_xml(b'<?xml version="1.0"?>\n<a>\n  ok \xc3\x28</a>')
    (finding,) = parsed.findings
    assert finding.rule == "parse.encoding"
    assert finding.line == 3


@pytest.mark.parametrize("data", [b"PK\x03\x04\x14\x00", b"\x89PNG\r\n\x1a\n", b"hello world"])
def test_non_xml_bytes(data: bytes) -> None:
    assert only_rule(data) == "parse.not-xml"


def test_doctype_is_refused_before_parsing_with_its_location() -> None:
    data = b'<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE a [<!ENTITY e "x">]>\n<a>&e;</a>'
    parsed = parse_xml(data)
    (finding,) = parsed.findings
    assert finding.rule == "parse.doctype"
    assert (finding.line, finding.column) == (3, 1)


def test_doctype_text_inside_the_body_is_not_a_doctype() -> None:
    data = b"<a><!-- <!DOCTYPE x> --><![CDATA[<!DOCTYPE y>]]></a>"
    assert parse_xml(data).root is not None


def test_undeclared_entity_reference() -> None:
    parsed = parse_xml(b"<a>\n&secret;</a>")
    (finding,) = parsed.findings
    assert finding.rule == "parse.entity"
    assert finding.line == 2
    assert "secret" not in finding.message_en + finding.message_zh


def test_depth_limit() -> None:
    def nested(depth: int) -> bytes:
        return b"<a>" * depth + b"</a>" * depth

    assert parse_xml(nested(64)).root is not None
    assert only_rule(nested(65)) == "parse.too-deep"
    assert only_rule(nested(20), ParseLimits(max_depth=10)) == "parse.too-deep"
    # libxml2's own limit (256) stops the parser itself, long before a deep tree is built.
    assert only_rule(nested(300)) == "parse.too-deep"


def test_element_count_limit_both_before_and_after_parsing() -> None:
    limits = ParseLimits(max_elements=100)
    flat = b"<a>" + b"<b/>" * 99 + b"</a>"
    assert parse_xml(flat, limits=limits).root is not None
    # Just over the limit: the "<" count cannot decide, the exact count on the tree does.
    assert only_rule(b"<a>" + b"<b/>" * 100 + b"</a>", limits) == "parse.too-many-elements"
    # Far over: refused from the "<" count, without building the tree.
    assert only_rule(b"<a>" + b"<b/>" * 1000 + b"</a>", limits) == "parse.too-many-elements"


def test_xinclude_is_refused_not_loaded() -> None:
    data = (
        b'<a xmlns:xi="http://www.w3.org/2001/XInclude">\n'
        b'  <xi:include href="/etc/passwd" parse="text"/>\n</a>'
    )
    parsed = parse_xml(data)
    (finding,) = parsed.findings
    assert finding.rule == "parse.xinclude"
    assert finding.line == 2


def test_malformed_xml_is_located_without_quoting_the_document() -> None:
    parsed = parse_xml(b"<a>\n  <secret-tag>\n</a>")
    (finding,) = parsed.findings
    assert finding.rule == "parse.malformed"
    assert finding.line == 3
    assert "secret" not in finding.message_en + finding.message_zh


def test_every_parse_rule_is_registered_with_both_languages() -> None:
    parse_rules = [r for r in RULES.values() if r.id.startswith("parse.")]
    assert {r.id for r in parse_rules} >= {
        "parse.empty",
        "parse.too-large",
        "parse.encoding",
        "parse.not-xml",
        "parse.doctype",
        "parse.entity",
        "parse.too-deep",
        "parse.too-many-elements",
        "parse.xinclude",
        "parse.malformed",
    }
    for rule in parse_rules:
        assert rule.layer is Layer.PARSE
        assert rule.title_en and rule.title_zh


def test_parsing_from_several_threads_gives_the_same_answers() -> None:
    inputs = [SMALL, b"<a><b></a>", b"", b"<!DOCTYPE a><a/>", UTF8_BOM + SMALL] * 40

    def verdict(data: bytes) -> tuple[bool, tuple[str, ...]]:
        parsed = parse_xml(data)
        return parsed.root is not None, tuple(f.rule for f in parsed.findings)

    serial = [verdict(d) for d in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(verdict, inputs)) == serial
