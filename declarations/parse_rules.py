"""The rules of the parse layer: what the hardened parse (``declarations.parsing``) refuses, one
``RuleInfo`` each, registered in ``declarations.findings.RULES`` at import.
"""

from __future__ import annotations

from declarations.findings import Layer, define_rule

__all__ = [
    "DOCTYPE",
    "EMPTY",
    "ENCODING",
    "ENTITY",
    "MALFORMED",
    "NOT_XML",
    "TOO_DEEP",
    "TOO_LARGE",
    "TOO_MANY_ELEMENTS",
    "XINCLUDE",
]

# Platform-level code 0001 of the spec (chapter 7): "报文格式错误" (message format error).
_FORMAT_ERROR = "0001"

EMPTY = define_rule(
    "parse.empty", Layer.PARSE, "The document is empty", "报文为空", spec_code=_FORMAT_ERROR
)
TOO_LARGE = define_rule(
    "parse.too-large", Layer.PARSE, "The document is too large", "报文过大", spec_code=_FORMAT_ERROR
)
ENCODING = define_rule(
    "parse.encoding",
    Layer.PARSE,
    "The document is not UTF-8",
    "报文编码不是UTF-8",
    spec_code=_FORMAT_ERROR,
)
NOT_XML = define_rule(
    "parse.not-xml", Layer.PARSE, "The document is not XML", "报文不是XML", spec_code=_FORMAT_ERROR
)
DOCTYPE = define_rule(
    "parse.doctype",
    Layer.PARSE,
    "DOCTYPE and DTDs are not allowed",
    "不允许DOCTYPE或DTD",
    spec_code=_FORMAT_ERROR,
)
ENTITY = define_rule(
    "parse.entity",
    Layer.PARSE,
    "Entity references are not allowed",
    "不允许实体引用",
    spec_code=_FORMAT_ERROR,
)
TOO_DEEP = define_rule(
    "parse.too-deep",
    Layer.PARSE,
    "Elements are nested too deeply",
    "元素嵌套层级过深",
    spec_code=_FORMAT_ERROR,
)
TOO_MANY_ELEMENTS = define_rule(
    "parse.too-many-elements",
    Layer.PARSE,
    "The document has too many elements",
    "报文元素过多",
    spec_code=_FORMAT_ERROR,
)
XINCLUDE = define_rule(
    "parse.xinclude",
    Layer.PARSE,
    "XInclude is not allowed",
    "不允许XInclude",
    spec_code=_FORMAT_ERROR,
)
MALFORMED = define_rule(
    "parse.malformed",
    Layer.PARSE,
    "The document is not well-formed XML",
    "报文不是格式良好的XML",
    spec_code=_FORMAT_ERROR,
)
