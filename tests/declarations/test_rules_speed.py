"""The rules stay cheap next to parsing and schema validation (ratio, not wall-clock time).

Both are measured in the same process on the same sets, as the best of several CPU-time runs,
so the ratio holds on a loaded machine. The bound is loose on purpose: it catches a rule that
evaluates XPath per field or re-reads a document per line, not a few microseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lxml import etree

from declarations.document import Document
from declarations.messages import BY_ROOT, Direction, Regime
from declarations.paths import xsd_root
from declarations.reconcile import check_set
from declarations.rules import check_document
from declarations.samples import generate_sets, to_bytes


def best_cpu_time(run: Callable[[], None], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def test_rules_cost_at_most_a_few_times_parse_and_validate() -> None:
    regime, direction = Regime.DIRECT, Direction.IMPORT
    payloads = [
        [to_bytes(root) for root in s.documents.values()]
        for s in generate_sets(regime, direction, seed=1, count=40)
    ]
    schema = etree.XMLSchema(etree.parse(str(xsd_root() / regime.value / "import.xsd")))

    def parse_and_validate() -> None:
        for documents in payloads:
            for data in documents:
                schema.validate(etree.fromstring(data))

    def parse_validate_and_rules() -> None:
        for documents in payloads:
            checked = []
            for data in documents:
                root = etree.fromstring(data)
                schema.validate(root)
                message = BY_ROOT[etree.QName(root).localname]
                doc = Document("x.xml", root, message, message.direction, regime)
                check_document(doc)
                checked.append(doc)
            assert check_set(checked) == []

    baseline = best_cpu_time(parse_and_validate)
    with_rules = best_cpu_time(parse_validate_and_rules)
    # measured about 2.2x (rules ≈ 1.2x parse + validate) on the development machine
    assert with_rules < 4 * baseline, (with_rules, baseline)
