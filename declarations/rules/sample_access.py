"""Reaching into a sample set (``declarations.samples``) by document kind: the head, the lines
and a field of a document, for the rule examples and the tests that mutate sample sets."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from declarations.messages import CEB_NS
from declarations.samples import SampleSet, fmt

_C = "{" + CEB_NS + "}"


def root_of(sample: SampleSet, kind: str) -> etree._Element:
    return next(r for name, r in sample.documents.items() if name.startswith(kind))


def record_of(sample: SampleSet, kind: str) -> etree._Element:
    return root_of(sample, kind)[0]  # the first business record comes first under the root


def head(sample: SampleSet, kind: str) -> etree._Element:
    record = record_of(sample, kind)
    first = record[0]
    return first if etree.QName(first).localname.endswith("Head") else record


def lines(sample: SampleSet, kind: str) -> list[etree._Element]:
    return [e for e in record_of(sample, kind) if etree.QName(e).localname.endswith("List")]


def get(element: etree._Element, name: str) -> str:
    node = element.find(_C + name)
    if node is None or node.text is None:
        raise KeyError(name)
    return node.text


def put(element: etree._Element, name: str, value: str) -> None:
    node = element.find(_C + name)
    if node is None:
        raise KeyError(name)
    node.text = value


def add(element: etree._Element, name: str, amount: Decimal) -> None:
    put(element, name, fmt(Decimal(get(element, name)) + amount))


def has(sample: SampleSet, kind: str) -> bool:
    return any(name.startswith(kind) for name in sample.documents)
