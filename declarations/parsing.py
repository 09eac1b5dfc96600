"""The hardened parse: the first step of the validation pipeline.

Declarations arrive from outside, so the parser trusts nothing. Bytes are checked cheaply
*before* libxml2 sees them (size, encoding, DOCTYPE, markup count), and the parser itself runs
without DTDs, entity expansion, network or XInclude. Whatever goes wrong becomes a ``parse.*``
finding with a line and column where they are known; messages are our own and never quote the
input, so a hostile document cannot make us echo a secret file or an entity target back.

Limits (DOMAIN-independent, tunable through ``ParseLimits``):

- size: checked first, so a 50 MB upload is refused without being parsed;
- markup count: every element needs at least one ``<``, so counting ``<`` bounds the number of
  nodes libxml2 could build (and therefore memory) before parsing;
- depth: libxml2 itself stops at 256 levels; ours (64) is checked on the built tree in C,
  first by a probe only eight levels deep that nearly every message answers at once. The
  pipeline asks for this check (and the XInclude one) only where the schema cannot vouch for
  the tree (``defer_tree_checks``, ``tree_refusal``).

A document that starts the usual way (the UTF-8 declaration, then the root element) skips
the prolog checks: it can hold neither a DOCTYPE nor another encoding.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, NamedTuple

from lxml import etree

from declarations.document import source_line
from declarations.findings import Finding
from declarations.parse_rules import (
    DOCTYPE,
    EMPTY,
    ENCODING,
    ENTITY,
    MALFORMED,
    NOT_XML,
    TOO_DEEP,
    TOO_LARGE,
    TOO_MANY_ELEMENTS,
    XINCLUDE,
)

UTF8_BOM = b"\xef\xbb\xbf"
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
_XINCLUDE_BYTES = XINCLUDE_NS.encode()


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """What one document may cost. A CEB message holds at most 100 records of 99 lines each."""

    max_bytes: int = 10 * 1024 * 1024
    max_depth: int = 64
    max_elements: int = 200_000


DEFAULT_LIMITS = ParseLimits()


class Parsed(NamedTuple):
    """The outcome of the parse step: a root element, or the findings that say why not.

    (A named tuple rather than a frozen dataclass: made for every document, and a frozen
    dataclass costs several times as much to build.)"""

    root: etree._Element | None
    findings: tuple[Finding, ...] = ()


class _RefuseEverything(etree.Resolver):
    """Belt and braces: should libxml2 ever try to load a resource, it gets nothing."""

    # lxml-stubs omit the context argument that lxml passes.
    def resolve(  # type: ignore[override]
        self, system_url: str, public_id: str, context: object
    ) -> object:
        return self.resolve_string("", context, base_url=None)


def _new_parser(*, exact: bool = False) -> etree.XMLParser:
    """The hardened parser; ``exact`` keeps every node of the text (blank text, comments,
    processing instructions), as a signature's digest needs them (``declarations.xmldsig``)."""
    parser = etree.XMLParser(
        resolve_entities=False,  # no entity expansion: billion laughs stays a few bytes
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,  # keep libxml2's own limits (depth 256, 10 MB text nodes)
        collect_ids=False,  # no xml:id hash table: we never look nodes up by id
        # Indentation between elements is not data: dropping it leaves fewer nodes for the
        # schema and every later walk. Line numbers stay, and so does the text of a leaf
        # that holds only spaces (libxml2 keeps it, so the schema still sees it).
        remove_blank_text=not exact,
        # Comments and processing instructions carry no data in a CEB message. Dropped, they
        # cannot split a field's text (libxml2 joins the pieces) nor stand among a record's
        # fields, where lxml would count them as children.
        remove_comments=not exact,
        remove_pis=not exact,
    )
    parser.resolvers.add(_RefuseEverything())
    return parser


# lxml parsers must not be shared between threads; the service validates from several.
_local = threading.local()


def _parser(*, exact: bool = False) -> etree.XMLParser:
    name = "exact_parser" if exact else "parser"
    parser: etree.XMLParser | None = getattr(_local, name, None)
    if parser is None:
        parser = _new_parser(exact=exact)
        setattr(_local, name, parser)
    return parser


def parse_exact(data: bytes) -> etree._Element:
    """``data`` as written, every node kept, by the same hardened parser; for bytes that
    ``parse_xml`` has accepted (a signature's check reads them again this way). Raises
    ``etree.XMLSyntaxError`` for bytes that are not well-formed."""
    return etree.fromstring(data, _parser(exact=True))


_DECLARED_ENCODING = re.compile(rb"\sencoding\s*=\s*[\"']([^\"']{0,40})[\"']")
_UTF8_NAMES = {b"utf-8", b"utf8"}
_SPACES = re.compile(rb"[ \t\r\n]*")
# UTF-16/32 byte-order marks, and "<" or "<?" as UTF-16/32 writes them without one.
_WIDE_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<", b"\x00\x00\x00<")
# libxml2 error names (ERR_...) by number, to classify syntax errors without reading messages.
_ERROR_NAMES: dict[int, str] = {
    getattr(etree.ErrorTypes, name): name for name in dir(etree.ErrorTypes) if name.isupper()
}
_ENCODING_ERRORS = {"ERR_INVALID_ENCODING", "ERR_UNSUPPORTED_ENCODING", "ERR_UNKNOWN_ENCODING"}
_ENTITY_ERRORS = {"ERR_UNDECLARED_ENTITY", "WAR_UNDECLARED_ENTITY", "ERR_UNPARSED_ENTITY"}


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _doctype_offset(data: bytes, start: int) -> int | None:
    """Where a DOCTYPE begins, or None.

    A DOCTYPE may only stand in the prolog, so only the prolog (XML declaration, comments,
    processing instructions, whitespace) is walked: cheaper than searching the whole document,
    and the same text inside a comment or CDATA section of the body is not mistaken for one.
    Anywhere else libxml2 rejects it as malformed.
    """
    i, n = start, len(data)
    while i < n:
        i = _SPACES.match(data, i).end()  # type: ignore[union-attr]  # "*" always matches
        if data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif data.startswith(b"<!DOCTYPE", i):
            return i
        else:
            return None
    return None


# How nearly every CEB message begins: an optional BOM, the XML declaration naming UTF-8, a
# little whitespace, then the root element ("<" and a name, where a comment, PI or DOCTYPE would
# have "!" or "?"). Such a document holds neither a DOCTYPE nor another encoding, so the prolog
# checks have nothing to do. One regular expression decides it in C.
_USUAL_START = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml version=([\"'])1\.0\1 encoding=([\"'])(?:UTF-8|utf-8)\2"
    rb"(?: standalone=([\"'])yes\3)?\?>[ \t\r\n]*<[^!?/]"
)


def _check_bytes(data: bytes, markup: int, source: str, limits: ParseLimits) -> Finding | None:
    """The checks that need no parser, cheapest first."""
    if len(data) > limits.max_bytes:
        return TOO_LARGE.finding(
            f"the document is larger than the limit of {limits.max_bytes:,} bytes",
            f"报文超过大小上限 {limits.max_bytes:,} 字节",
            source=source,
        )
    if markup <= 2 * limits.max_elements and _USUAL_START.match(data):
        return None
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    first = data[start : start + 1]
    if not first or (first.isspace() and data[start:].isspace()):
        return EMPTY.finding("the document is empty", "报文内容为空", source=source)
    if data.startswith(_WIDE_STARTS):
        return ENCODING.finding(
            "the document is UTF-16 or UTF-32; CEB messages must be UTF-8",
            "报文为UTF-16或UTF-32编码，CEB报文必须使用UTF-8编码",
            line=1,
            column=1,
            source=source,
        )
    head = data[start : start + 200].lstrip()
    if not head.startswith(b"<"):
        return NOT_XML.finding(
            "the document does not start with XML markup",
            "报文不是以XML标记开头",
            line=1,
            column=1,
            source=source,
        )
    if head.startswith(b"<?xml"):
        declaration = head[: head.find(b"?>")]
        declared = _DECLARED_ENCODING.search(declaration)
        if declared and declared.group(1).lower() not in _UTF8_NAMES:
            return ENCODING.finding(
                "the XML declaration names an encoding other than UTF-8; "
                "CEB messages must be UTF-8",
                "XML声明的编码不是UTF-8，CEB报文必须使用UTF-8编码",
                line=1,
                column=1,
                source=source,
            )
    doctype = _doctype_offset(data, start)
    if doctype is not None:
        line, column = _line_column(data, doctype)
        return DOCTYPE.finding(
            "the document has a DOCTYPE; DTDs and entity declarations are not accepted",
            "报文包含DOCTYPE；不接受DTD和实体声明",
            line=line,
            column=column,
            source=source,
        )
    # Each element costs at least one "<" and an end tag at most one more, so this bounds the
    # tree libxml2 would build (and its memory) before it builds anything.
    if markup > 2 * limits.max_elements:
        return TOO_MANY_ELEMENTS.finding(
            f"the document has more than {limits.max_elements:,} elements",
            f"报文元素数超过上限 {limits.max_elements:,}",
            source=source,
        )
    return None


@dataclass(frozen=True, slots=True)
class _Where:
    line: int | None
    column: int | None
    source: str

    def kwargs(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "source": self.source}


def _syntax_finding(error: etree.XMLSyntaxError, source: str) -> Finding:
    """A libxml2 syntax error, classified by its number; its message (which may quote the
    document) is not passed on."""
    name = _ERROR_NAMES.get(getattr(error, "code", 0), "ERR_UNKNOWN")  # not in lxml-stubs
    line, column = error.position if error.position else (0, 0)
    where = _Where(line or None, column or None, source)
    if name in _ENCODING_ERRORS:
        return ENCODING.finding(
            "the document contains bytes that are not valid UTF-8",
            "报文包含无效的UTF-8字节",
            **where.kwargs(),
        )
    if name in _ENTITY_ERRORS:
        return ENTITY.finding(
            "the document refers to an entity; entity references are not accepted",
            "报文引用了实体；不接受实体引用",
            **where.kwargs(),
        )
    if name == "ERR_RESOURCE_LIMIT" and "depth" in (error.msg or ""):
        return TOO_DEEP.finding(
            "elements are nested more than 256 levels deep",
            "元素嵌套超过256层",
            **where.kwargs(),
        )
    if name == "ERR_DOCUMENT_EMPTY":
        return NOT_XML.finding(
            "the document holds no XML element", "报文中没有XML元素", **where.kwargs()
        )
    readable = name.removeprefix("ERR_").removeprefix("WAR_").replace("_", " ").lower()
    return MALFORMED.finding(
        f"the document is not well-formed XML ({readable})",
        f"报文不是格式良好的XML（{readable}）",
        **where.kwargs(),
    )


# CEB messages are about four levels deep (six inside a signature): a probe this deep is nearly
# always empty, and stops libxml2 from walking the dozens of levels below, empty as they are.
_SHALLOW = 8


def _depth_probes(depth: int) -> tuple[etree.XPath, etree.XPath, etree.XPath]:
    """Three XPaths: whether some element is deeper than ``min(depth, _SHALLOW)``, whether some
    element is deeper than ``depth``, and the first such element. libxml2 walks the tree level
    by level, so a probe costs about as much as the number of elements plus a little per level;
    the yes/no ones, without the EXSLT regular expressions lxml registers by default, are the
    cheap calls. lxml serialises calls to one XPath object with a lock, so each thread compiles
    its own."""
    probes: dict[int, tuple[etree.XPath, etree.XPath, etree.XPath]] | None = getattr(
        _local, "probes", None
    )
    if probes is None:
        probes = _local.probes = {}
    found = probes.get(depth)
    if found is None:
        shallow = "/" + "/".join(["*"] * (min(depth, _SHALLOW) + 1))
        path = "/" + "/".join(["*"] * (depth + 1))
        found = probes[depth] = (
            etree.XPath(f"boolean({shallow})", regexp=False, smart_strings=False),
            etree.XPath(f"boolean({path})", regexp=False, smart_strings=False),
            etree.XPath(f"({path})[1]", regexp=False, smart_strings=False),
        )
    return found


def tree_refusal(
    root: etree._Element,
    data: bytes,
    *,
    source: str = "<input>",
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Finding | None:
    """The checks on the built tree: nesting depth, then XInclude. ``parse_xml`` runs them,
    unless told to leave them to a caller that can often do without (see the pipeline)."""
    deeper_than_shallow, too_deep, deepest = _depth_probes(limits.max_depth)
    if deeper_than_shallow(root) and too_deep(root):
        nodes = deepest(root)
        node = nodes[0] if isinstance(nodes, list) and nodes else None
        return TOO_DEEP.finding(
            f"elements are nested more than {limits.max_depth} levels deep",
            f"元素嵌套超过{limits.max_depth}层",
            line=source_line(node) if isinstance(node, etree._Element) else None,
            source=source,
        )
    if _XINCLUDE_BYTES in data:
        for node in root.iter(f"{{{XINCLUDE_NS}}}*"):
            return XINCLUDE.finding(
                "the document uses XInclude; included content is never loaded",
                "报文使用了XInclude；不会加载被包含的内容",
                line=source_line(node),
                source=source,
            )
    return None


def _too_many_elements(
    root: etree._Element, markup: int, source: str, limits: ParseLimits
) -> Finding | None:
    # The "<" count already bounds most documents; count exactly only when it might not.
    if markup > limits.max_elements:
        count = root.xpath("count(//*)")  # rare: only for documents of several hundred KB
        assert isinstance(count, float)
        if count > limits.max_elements:
            return TOO_MANY_ELEMENTS.finding(
                f"the document has more than {limits.max_elements:,} elements",
                f"报文元素数超过上限 {limits.max_elements:,}",
                source=source,
            )
    return None


def parse_xml(
    data: bytes,
    *,
    source: str = "<input>",
    limits: ParseLimits = DEFAULT_LIMITS,
    defer_tree_checks: bool = False,
) -> Parsed:
    """Parse untrusted bytes into a tree, or say (in findings) why not.

    With ``defer_tree_checks`` the depth and XInclude checks (``tree_refusal``) are left to the
    caller: the pipeline runs them only where the schema cannot vouch for the tree."""
    # Every element takes at least 4 bytes ("<a/>"), so only a large document can hold more
    # elements than allowed; for those, the "<" count bounds them (see _check_bytes).
    markup = data.count(b"<") if len(data) > 4 * limits.max_elements else 0
    refused = _check_bytes(data, markup, source, limits)
    if refused is not None:
        return Parsed(None, (refused,))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        return Parsed(None, (_syntax_finding(error, source),))
    refused = _too_many_elements(root, markup, source, limits)
    if refused is None and not defer_tree_checks:
        refused = tree_refusal(root, data, source=source, limits=limits)
    if refused is not None:
        return Parsed(None, (refused,))
    return Parsed(root)
