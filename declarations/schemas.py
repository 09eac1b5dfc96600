"""The schema registry and the schema step.

Each regime and direction has its own XSD, ``xsd/<regime>/<direction>.xsd`` (see
``xsd/README.md``). A compiled ``lxml.etree.XMLSchema`` keeps the error log of its last call, so one
instance must not serve two threads at once: the registry compiles each schema once *per
thread* (threading.local) and reuses it for every later document on that thread.

Every libxml2 validation error becomes a ``schema.*`` finding. The rule id comes from libxml2's
error type (not from its wording), and the message is rebuilt from the numbers and names the
schema supplies; the value found in the document is never quoted.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from declarations.document import Document, readable_xpath
from declarations.findings import Finding, Layer, RuleInfo, define_rule
from declarations.messages import CEB_NS, DSIG_NS, Direction, Regime
from declarations.paths import xsd_root

_SCHEMA_ERROR = "0002"  # platform-level code of the spec: "fails the XML Schema"


def _rule(rule_id: str, en: str, zh: str) -> RuleInfo:
    return define_rule(rule_id, Layer.SCHEMA, en, zh, spec_code=_SCHEMA_ERROR)


MISSING_ELEMENT = _rule("schema.missing-element", "A required element is missing", "缺少必填元素")
UNEXPECTED_ELEMENT = _rule(
    "schema.unexpected-element", "An element is not allowed here", "此处不允许该元素"
)
MISSING_ATTRIBUTE = _rule(
    "schema.missing-attribute", "A required attribute is missing", "缺少必填属性"
)
UNEXPECTED_ATTRIBUTE = _rule(
    "schema.unexpected-attribute", "An attribute is not allowed here", "此处不允许该属性"
)
TOO_LONG = _rule("schema.too-long", "A value is too long", "值过长")
TOO_SHORT = _rule("schema.too-short", "A value is too short", "值过短")
WRONG_LENGTH = _rule("schema.length", "A value does not have the required length", "值长度不符")
PATTERN = _rule("schema.pattern", "A value does not match the required format", "值格式不符")
ENUMERATION = _rule(
    "schema.enumeration", "A value is not one of the allowed codes", "值不在允许范围内"
)
TYPE = _rule("schema.type", "A value has the wrong data type", "值的数据类型错误")
DIGITS = _rule("schema.digits", "A number has too many digits", "数字位数过多")
RANGE = _rule("schema.range", "A number is out of range", "数值超出范围")
TEXT_NOT_ALLOWED = _rule(
    "schema.text-not-allowed", "Text is not allowed in this element", "该元素不允许包含文本"
)
FIXED = _rule("schema.fixed", "A value differs from the fixed value", "值与固定值不符")
INVALID = _rule(
    "schema.invalid", "The document does not satisfy the schema", "报文不符合XML Schema"
)


class SchemaNotFoundError(FileNotFoundError):
    """The project's schema for a regime and direction is missing: a deployment error."""


_NAMESPACES = {"ceb": CEB_NS, "ds": DSIG_NS}
_ELEMENT = re.compile(r"^Element '(?:\{[^}]*\})?([^']+)'")
_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (.*) \)\.?\s*$")
_FACET_LIMIT = re.compile(r"(?:allowed (?:maximum |minimum )?length|allowed) of '(\d+)'")
_ACTUAL_LENGTH = re.compile(r"has a length of '(\d+)'")
_PATTERN = re.compile(r"by the pattern '(.*)'\.?\s*$")
_ENUM_SET = re.compile(r"is not an element of the set \{(.*)\}\.?\s*$")
_FIXED = re.compile(r"fixed value constraint '([^']*)'")
_DIGIT_LIMIT = re.compile(r"are allowed \('(\d+)'\)")
_BOUND = re.compile(
    r"(?:greater|less) than (?:or equal to )?(?:the (?:minimum|maximum) value )?'([^']+)'"
)


def _local_names(expected: str) -> str:
    """``{ns}a, {ns}b`` → ``a, b``."""
    return ", ".join(re.sub(r"\{[^}]*\}", "", name).strip() for name in expected.split(","))


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class _Explained:
    rule: RuleInfo
    en: str
    zh: str
    field: str | None


def explain(type_name: str, message: str) -> _Explained:
    """Turn one libxml2 schema error (its type and text) into a rule and our own message."""
    name = _first(_ELEMENT, message) or "element"
    attribute = _first(_ATTRIBUTE, message)
    expected = _first(_EXPECTED, message)
    if type_name in ("SCHEMAV_ELEMENT_CONTENT", "SCHEMAV_CVC_COMPLEX_TYPE_2_4"):
        wanted = _local_names(expected) if expected else "another element"
        if "Missing child element" in message:
            return _Explained(
                MISSING_ELEMENT,
                f"{name} lacks a required child element; expected: {wanted}",
                f"{name} 缺少必填子元素；应为：{wanted}",
                wanted.split(", ")[0] if expected else name,
            )
        return _Explained(
            UNEXPECTED_ELEMENT,
            f"{name} is not allowed here; expected: {wanted}",
            f"此处不允许 {name}；应为：{wanted}",
            name,
        )
    if type_name == "SCHEMAV_CVC_COMPLEX_TYPE_4":
        return _Explained(
            MISSING_ATTRIBUTE,
            f"{name} lacks the required attribute {attribute}",
            f"{name} 缺少必填属性 {attribute}",
            attribute,
        )
    if type_name.startswith("SCHEMAV_CVC_COMPLEX_TYPE_3"):
        return _Explained(
            UNEXPECTED_ATTRIBUTE,
            f"{name} does not allow the attribute {attribute}",
            f"{name} 不允许属性 {attribute}",
            attribute,
        )
    if type_name in ("SCHEMAV_CVC_COMPLEX_TYPE_2_1", "SCHEMAV_CVC_COMPLEX_TYPE_2_3"):
        return _Explained(
            TEXT_NOT_ALLOWED,
            f"{name} may hold only child elements, not text",
            f"{name} 只能包含子元素，不能包含文本",
            name,
        )
    target = f"{name} (attribute {attribute})" if attribute else name
    field = attribute or name
    limit = _first(_FACET_LIMIT, message)
    actual = _first(_ACTUAL_LENGTH, message)
    if type_name == "SCHEMAV_CVC_MAXLENGTH_VALID":
        return _Explained(
            TOO_LONG,
            f"{target} has {actual} characters; at most {limit} are allowed",
            f"{target} 长度为 {actual}，最多允许 {limit} 个字符",
            field,
        )
    if type_name == "SCHEMAV_CVC_MINLENGTH_VALID":
        return _Explained(
            TOO_SHORT,
            f"{target} has {actual} characters; at least {limit} are required",
            f"{target} 长度为 {actual}，至少需要 {limit} 个字符",
            field,
        )
    if type_name == "SCHEMAV_CVC_LENGTH_VALID":
        return _Explained(
            WRONG_LENGTH,
            f"{target} has {actual} characters; exactly {limit} are required",
            f"{target} 长度为 {actual}，必须为 {limit} 个字符",
            field,
        )
    if type_name == "SCHEMAV_CVC_PATTERN_VALID":
        pattern = _first(_PATTERN, message)
        return _Explained(
            PATTERN,
            f"{target} does not match the required format {pattern}",
            f"{target} 不符合格式要求 {pattern}",
            field,
        )
    if type_name == "SCHEMAV_CVC_ENUMERATION_VALID":
        allowed = (_first(_ENUM_SET, message) or "").replace("'", "")
        return _Explained(
            ENUMERATION,
            f"{target} is not one of the allowed values: {allowed}",
            f"{target} 不在允许的取值范围内：{allowed}",
            field,
        )
    if type_name in ("SCHEMAV_CVC_TOTALDIGITS_VALID", "SCHEMAV_CVC_FRACTIONDIGITS_VALID"):
        digits = _first(_DIGIT_LIMIT, message)
        kind_en, kind_zh = (
            ("digits after the decimal point", "位小数")
            if "FRACTION" in type_name
            else ("digits in total", "位数字")
        )
        return _Explained(
            DIGITS,
            f"{target} has more {kind_en} than the allowed {digits}",
            f"{target} 超过允许的 {digits} {kind_zh}",
            field,
        )
    if type_name.startswith(("SCHEMAV_CVC_MININCLUSIVE", "SCHEMAV_CVC_MAXINCLUSIVE")) or (
        type_name.startswith(("SCHEMAV_CVC_MINEXCLUSIVE", "SCHEMAV_CVC_MAXEXCLUSIVE"))
    ):
        bound = _first(_BOUND, message)
        side_en, side_zh = ("small", "小") if "MIN" in type_name else ("large", "大")
        return _Explained(
            RANGE,
            f"{target} is too {side_en} (limit {bound})",
            f"{target} 数值过{side_zh}（界限 {bound}）",
            field,
        )
    fixed = _first(_FIXED, message)
    if fixed is not None:
        return _Explained(
            FIXED,
            f"{target} must be the fixed value {fixed}",
            f"{target} 必须为固定值 {fixed}",
            field,
        )
    if type_name.startswith(
        ("SCHEMAV_CVC_DATATYPE_VALID", "SCHEMAV_CVC_TYPE", "SCHEMAV_CVC_ATTRIBUTE")
    ):
        return _Explained(
            TYPE,
            f"{target} is not a valid value of its data type",
            f"{target} 不是其数据类型的有效值",
            field,
        )
    readable = type_name.removeprefix("SCHEMAV_").replace("_", " ").lower()
    return _Explained(
        INVALID,
        f"{target} does not satisfy the schema ({readable})",
        f"{target} 不符合XML Schema（{readable}）",
        field,
    )


def _readable_location(root: etree._Element, path: str | None) -> str | None:
    """libxml2 reports the document's own prefixes (or ``/*[2]`` steps for a default
    namespace); find the node and name it the way every other finding does."""
    if not path:
        return None
    namespaces = {k: v for k, v in root.nsmap.items() if k} | _NAMESPACES
    try:
        nodes = root.getroottree().xpath(path, namespaces=namespaces)
    except etree.XPathError:
        return path
    if isinstance(nodes, list) and nodes and isinstance(nodes[0], etree._Element):
        return readable_xpath(nodes[0])
    return path


def schema_findings(schema: etree.XMLSchema, document: Document) -> list[Finding]:
    """Validate one document; every error, not only the first, as a finding."""
    if schema.validate(document.root.getroottree()):
        return []
    findings: list[Finding] = []
    entries: Iterable[Any] = schema.error_log  # type: ignore[assignment]  # lxml-stubs lack it
    for entry in entries:
        explained = explain(entry.type_name, entry.message)
        findings.append(
            explained.rule.finding(
                explained.en,
                explained.zh,
                xpath=_readable_location(document.root, entry.path),
                line=entry.line or None,
                column=entry.column or None,
                field=explained.field,
                source=document.source,
            )
        )
    return findings


# libxml2 compiles schemas with process-wide state (its built-in types among it): two threads
# compiling at once, as a freshly started server's first burst of submissions did, could both
# fail ("Internal error: xmlSchemaPValAttrNodeValue, the given type is not a built-in type", or
# "Document is not valid XML Schema") and answer 500. One compile at a time; validating with a
# compiled schema needs no lock (each thread has its own).
_COMPILING = threading.Lock()


class SchemaRegistry:
    """Compiled schemas by (regime, direction), one instance per thread."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._local = threading.local()

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else xsd_root()

    def path(self, regime: Regime, direction: Direction) -> Path:
        return self.root / regime.value / f"{direction.value}.xsd"

    def schema(self, regime: Regime, direction: Direction) -> etree.XMLSchema:
        cache: dict[tuple[Regime, Direction], etree.XMLSchema] | None = getattr(
            self._local, "cache", None
        )
        if cache is None:
            cache = self._local.cache = {}
        compiled = cache.get((regime, direction))
        if compiled is None:
            compiled = cache[(regime, direction)] = self._compile(regime, direction)
        return compiled

    def _compile(self, regime: Regime, direction: Direction) -> etree.XMLSchema:
        path = self.path(regime, direction)
        if not path.is_file():
            raise SchemaNotFoundError(
                f"danchuang's schema for regime {regime.value} {direction.value} is missing: {path}"
            )
        # Our own schemas, but still parsed without network access.
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        with _COMPILING:
            return etree.XMLSchema(etree.parse(str(path), parser))

    def check(self, document: Document) -> list[Finding]:
        """The schema step for one identified document."""
        regime = document.regime or Regime.DIRECT
        return schema_findings(self.schema(regime, document.direction), document)


_default: SchemaRegistry | None = None


def default_registry() -> SchemaRegistry:
    """The registry over the project's ``xsd/`` (``declarations.paths.xsd_root()``)."""
    global _default  # noqa: PLW0603 - one process-wide registry, created on first use
    if _default is None:
        _default = SchemaRegistry()
    return _default
