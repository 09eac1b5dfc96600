"""Schemas are compiled one at a time, whichever threads ask for them.

libxml2 compiles a schema with process-wide state: a freshly started server's first burst of
concurrent submissions, each thread compiling its own copy, once failed every one of them
("Internal error: xmlSchemaPValAttrNodeValue, the given type is not a built-in type") with a
500. The race is rare (about one fresh process in 10–30 with 16 threads), so these tests check
the guard itself: a compile waits while another holds the lock, and many threads asking at
once each get a compiled schema of their own.
"""

from __future__ import annotations

import threading

from declarations import Direction, Regime
from declarations import schemas as schemas_module
from declarations.schemas import SchemaRegistry


def test_a_compile_waits_while_another_is_under_way() -> None:
    registry = SchemaRegistry()
    compiled: list[object] = []
    asking = threading.Thread(
        target=lambda: compiled.append(registry.schema(Regime.DIRECT, Direction.IMPORT))
    )
    with schemas_module._COMPILING:  # another thread's compile, as far as the registry knows
        asking.start()
        asking.join(timeout=0.5)
        assert asking.is_alive(), "the schema was compiled while another compile held the lock"
        assert compiled == []
    asking.join(timeout=60)
    assert not asking.is_alive()
    assert len(compiled) == 1


def test_threads_asking_at_once_each_get_a_schema_of_their_own() -> None:
    registry = SchemaRegistry()
    start = threading.Barrier(8)
    failures: list[BaseException] = []
    got: list[object] = []

    def ask(number: int) -> None:
        start.wait()
        regime = (Regime.DIRECT, Regime.BONDED)[number % 2]
        try:
            got.append(registry.schema(regime, Direction.IMPORT))
        except BaseException as exc:  # every failure is reported
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert len(got) == 8
    assert len({id(schema) for schema in got}) == 8  # one compiled copy per thread
