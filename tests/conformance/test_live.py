"""The ``--server`` check against the real service (the ASGI app with its background engine on
an instant clock, over starlette's TestClient, which is an httpx client)."""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dressing import cop_code, dxp_id_of, signer
from fastapi.testclient import TestClient
from lxml import etree

from app import accounts, states
from app.accounts import Principal
from app.conformance.live import FINAL_STATES, LiveClient, check_live, unmet_expectations
from app.conformance.offline import Group, Outcome, run_offline
from app.conformance.offline.catalogue import Expected
from app.conformance.results import Run
from app.db.engine import Database
from app.db.models import Role
from app.main import create_app
from app.services import certificates
from app.settings import Settings
from declarations.envelope import DXP_NS
from declarations.messages import BY_ROOT, CEB_NS
from declarations.samples import to_bytes
from declarations.xmldsig import sign_message

C = "{" + CEB_NS + "}"
_ROLES = {"ebcCode": Role.EBC, "payCode": Role.PAY, "logisticsCode": Role.LOGISTICS}
_ROLES["agentCode"] = Role.AGENT
_ROLES["operatorCode"] = Role.OPERATOR  # the supervised site's (CEB711)


@pytest.fixture
def service(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, Database]]:
    """The service; ``@pytest.mark.parametrize("service", ["require"], indirect=True)`` sets
    its signature mode."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    settings = Settings(
        signature_mode=getattr(request, "param", "warn"),
        environment="test",
        database_url=url,
        run_background_in_api=True,
        clock_speed="instant",
        log_format="console",
        demo_keys_file=tmp_path / "demo-keys.json",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings)
    with TestClient(app) as http:
        database = Database.from_url(url)
        yield http, database
        database.dispose()


def register_senders(database: Database, folder: Path) -> list[str]:
    """An enterprise with a key for every sender code in the folder's messages."""
    codes: dict[str, set[Role]] = {}
    for path in folder.rglob("*.xml"):
        try:
            root = etree.parse(str(path)).getroot()
        except etree.XMLSyntaxError:
            continue
        data = root.find("{" + DXP_NS + "}Data")
        if data is not None:  # an enveloped message: the one it carries
            root = etree.fromstring(base64.b64decode(data.text or ""))
        message = BY_ROOT.get(etree.QName(root).localname)
        if message is None:
            continue
        for field in message.sender_fields:
            for node in root.iter(C + field):
                if field in _ROLES and node.text:
                    codes.setdefault(node.text, set()).add(_ROLES[field])
    keys = []
    with database.write() as session:
        for code, roles in codes.items():
            enterprise = accounts.create_enterprise(session, code=code, name=code, roles=roles)
            enterprise.dxp_id = dxp_id_of(code)
            keys.append(accounts.issue_key(session, enterprise)[1])
            session.flush()
            certificates.register(session, Principal.of(enterprise), signer(code)[1].pem())
    return keys


def break_line_total(inventory: etree._Element) -> None:
    next(inventory.iter(C + "totalPrice")).text = "1.00"


def add_unknown_element(inventory: etree._Element) -> None:
    etree.SubElement(next(inventory.iter(C + "InventoryHead")), C + "bogus").text = "1"


def copy_with_fresh_numbers(
    source: Path, target: Path, suffix: str, mutate: Callable[[etree._Element], None]
) -> None:
    """The set in ``source`` under new numbers and guids, its 清单 changed by ``mutate``."""
    target.mkdir()
    for path in source.glob("*.xml"):
        root = etree.parse(str(path)).getroot()
        for name in ("orderNo", "copNo", "logisticsNo"):
            for node in root.iter(C + name):
                node.text = f"{node.text}{suffix}"
        root.set("guid", str(uuid.uuid4()).upper())
        for node in root.iter(C + "guid"):
            node.text = root.get("guid")
        if path.name.startswith("inventory"):
            mutate(root)
        (target / path.name).write_bytes(to_bytes(root))


GROUPS = [0, 1] if not os.environ.get("DANCHUANG_CONFORMANCE_ALL_GROUPS") else list(range(6))


@pytest.mark.slow
@pytest.mark.parametrize("group_index", GROUPS)  # 9610 import and export; all on request
def test_the_live_check_runs_the_cases_against_the_real_service(
    tmp_path: Path,
    catalogue: list[Group],
    arrange: Callable[[Path, Group], list[str]],
    service: tuple[TestClient, Database],
    group_index: int,
) -> None:
    http, database = service
    group = catalogue[group_index]
    folder = tmp_path / "integrator"
    folder.mkdir()
    ids = arrange(folder, group)
    parse_case = next(c for c in group.cases if c.rule == "parse.*")
    (folder / parse_case.id).mkdir()
    (folder / parse_case.id / "broken.xml").write_bytes(b"<ceb:CEB621Message><a></b>")
    # Two negative cases on fresh numbers, made from the first case's set: one 清单 line's
    # totalPrice broken (a business rule), and an element the schema does not allow.
    line_case = next(c for c in group.cases if c.rule == "inventory.line-total")
    schema_case = next(c for c in group.cases if c.rule == "schema.*")
    source = folder / group.cases[0].id
    copy_with_fresh_numbers(source, folder / line_case.id, "N", break_line_total)
    copy_with_fresh_numbers(source, folder / schema_case.id, "S", add_unknown_element)
    keys = register_senders(database, folder)

    results, assignment = run_offline(folder, [group])
    run = Run(results, assignment.unmatched)
    assert all(r.outcome is not Outcome.FAILED for r in results), [
        (r.case.id, r.problems) for r in results if r.problems
    ]
    with LiveClient("http://testserver", keys, timeout=20, poll_interval=0.05, http=http) as c:
        check_live(c, run, assignment.by_case)
    tried = {r.case.id: r for r in results if r.outcome is not Outcome.SKIPPED}
    failed = {i: r.problems for i, r in tried.items() if r.outcome is Outcome.FAILED}
    assert failed == {}
    assert set(tried) == {*ids, parse_case.id, line_case.id, schema_case.id}
    assert all(any(n.startswith("live:") for n in r.notes) for r in tried.values())


def test_expected_receipts_must_appear_in_order_and_end_the_sequence() -> None:
    def receipts(*statuses: int) -> list[dict[str, object]]:
        return [{"message_code": "CEB622", "return_status": s} for s in statuses]

    path = [Expected(message="CEB622", statuses=[2, 3, 120, 399, 800, 899])]
    assert unmet_expectations(path, receipts(2, 3, 120, 399, 800, 899)) == []
    assert unmet_expectations(path, receipts(2, 3, 120, 300, 399, 800, 899)) == []  # extras between
    assert unmet_expectations(path, receipts(2, 3, 120, 399, 500, 800)) == [
        "CEB622: expected 2 → 3 → 120 → 399 → 800 → 899, got 2 → 3 → 120 → 399 → 500 → 800"
    ]
    assert unmet_expectations(path, receipts(2, 3, 120, 399, 800, 899, 100)) != []  # must end it
    assert unmet_expectations(path, []) == [
        "CEB622: expected 2 → 3 → 120 → 399 → 800 → 899, got none"
    ]


def test_the_client_waits_for_the_final_states_the_service_reports() -> None:
    # The client knows the service only through its HTTP contract, so it spells the final
    # states itself; they must be the service's own (app.states).
    assert FINAL_STATES == states.FINAL_STATES


@pytest.mark.parametrize("service", ["require"], indirect=True)
def test_the_signature_cases_run_live_against_a_service_that_requires_signatures(
    tmp_path: Path,
    catalogue: list[Group],
    arrange: Callable[[Path, Group], list[str]],
    service: tuple[TestClient, Database],
) -> None:
    http, database = service
    group = catalogue[0]
    folder = tmp_path / "integrator"
    folder.mkdir()
    arrange(folder, group)
    signed = next(c for c in group.cases if c.exhibit.signed)
    refused = next(c for c in group.cases if c.rule == "signature.*")
    for case in group.cases:  # only the signed set and the tampered order this time
        if case is not signed and (folder / case.id).is_dir():
            shutil.rmtree(folder / case.id)
    (folder / refused.id).mkdir()
    order = etree.fromstring(next((folder / signed.id).glob("order*.xml")).read_bytes())
    order.set("guid", str(uuid.uuid4()).upper())  # a message of its own
    for node in order.iter(C + "guid"):
        node.text = order.get("guid")
    data = to_bytes(order)
    # signed by its sender's registered certificate, then changed
    tampered = sign_message(data, *signer(cop_code(data))).replace(
        b"<ceb:orderNo>", b"<ceb:orderNo>X", 1
    )
    (folder / refused.id / "order.xml").write_bytes(tampered)
    keys = register_senders(database, folder)

    results, assignment = run_offline(folder, [group])
    tried = {r.case.id: r for r in results if r.outcome is not Outcome.SKIPPED}
    assert set(tried) == {signed.id, refused.id}
    assert all(r.outcome is Outcome.PASSED for r in tried.values()), [
        (r.case.id, r.problems) for r in tried.values()
    ]
    with LiveClient("http://testserver", keys, timeout=20, poll_interval=0.05, http=http) as c:
        check_live(c, Run(results, assignment.unmatched), assignment.by_case)
    assert {i: r.problems for i, r in tried.items() if r.problems} == {}
    assert all(any(n.startswith("live: answered") for n in r.notes) for r in tried.values())
