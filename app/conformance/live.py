"""The live check: send each case's documents to a running danchuang and check its receipts.

Follows the documented contract (docs/api.md, docs/live-clearance.md):

- ``POST /api/v1/documents`` (one CEB message, ``application/xml``, ``Authorization: Bearer``)
  answers with the stored document, its receipts and the declaration it joined;
- ``POST /api/v1/declarations/{id}/outcome`` forces the clearance outcome before clearance;
- ``GET /api/v1/declarations/{id}`` gives the declaration's state and full history.

Each document must come from the enterprise that sends it in reality, so the client holds one
key per enterprise: it asks ``GET /api/v1/enterprises/me`` whose each key is, and sends a
message with the key of its ``BaseTransfer/copCode``; without a match it tries every key (a 403
means "not this key's to send"). A case is checked step by step; a step's
receipts are the ones recorded after it started, collected from the answers and from the
declaration's history, polled until every expected sequence is complete, the declaration
reaches a final state, or the timeout passes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

from app.conformance.documents import (
    NamedFile,
    app_type_of,
    cop_code,
    fresh_guid,
    is_follow_up,
    kind_of,
    of_message,
    root_name,
    with_invt_no,
)
from app.conformance.offline import CaseResult, Outcome
from app.conformance.offline.catalogue import Action, Expected, Step
from app.conformance.offline.check import inventory_notes
from app.conformance.results import Run
from declarations import (
    Certificate,
    CertificateError,
    Kind,
    load_certificate,
    send_rank,
    verify_signature,
)

# The final declaration states as docs/api.md names them: like any integrator, this client knows
# the service only through its HTTP contract (the service's own names: app.states).
FINAL_STATES = {"cleared", "rejected", "detained", "returned", "cancelled"}


class LiveError(Exception):
    """The service could not be reached or answered out of contract; the message says how."""


@dataclass(slots=True)
class Sent:
    status_code: int
    body: dict[str, Any]
    key: str = ""  # the key it was sent with

    @property
    def declaration_id(self) -> int | None:
        declaration = self.body.get("declaration") or {}
        document = self.body.get("document") or {}
        found = declaration.get("id") or document.get("declaration_id")
        return int(found) if found else None


class LiveClient:
    def __init__(
        self,
        base_url: str,
        keys: Sequence[str],
        *,
        timeout: float = 60.0,
        poll_interval: float = 0.2,
        http: httpx.Client | None = None,
    ) -> None:
        self.keys = list(keys)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.http = http or httpx.Client(base_url=base_url, timeout=30.0)
        self._key_of_code: dict[str, str] | None = None  # enterprise code -> its key
        self._recent: list[str] = []  # keys that sent a message, the latest first
        self._signature_mode: str | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _request(self, method: str, url: str, key: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
        try:
            return self.http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise LiveError(f"{method} {url}: {error}") from None

    def ping(self) -> None:
        """Raise ``LiveError`` unless the service answers and knows every key."""
        try:
            response = self.http.get("/healthz")
        except httpx.HTTPError as error:
            raise LiveError(f"the service does not answer: {error}") from None
        if response.status_code >= 500 or response.status_code == 404:
            raise LiveError(f"GET /healthz answered {response.status_code}")
        self.key_of_code()

    def key_of_code(self) -> dict[str, str]:
        if self._key_of_code is None:
            self._key_of_code = {}
            for key in self.keys:
                response = self._request("GET", "/api/v1/enterprises/me", key)
                if response.status_code == 401:
                    raise LiveError(f"the server does not know the key {key[:12]}…")
                code = _json(response).get("code")
                if response.status_code == 200 and code:
                    self._key_of_code[str(code)] = key
        return self._key_of_code

    def _keys_for(self, data: bytes) -> list[str]:
        """The key of the message's copCode first, then the others."""
        mine = self.key_of_code().get(cop_code(data) or "")
        return [mine, *[k for k in self.keys if k != mine]] if mine else self.keys

    def submit(self, data: bytes) -> Sent:
        """POST one message with the first key allowed to send it."""
        response: httpx.Response | None = None
        for key in self._keys_for(data):
            response = self._request(
                "POST",
                "/api/v1/documents",
                key,
                content=data,
                headers={"Content-Type": "application/xml", "Accept": "application/json"},
            )
            if response.status_code not in (401, 403):
                self._recent = [key, *[k for k in self._recent if k != key]]
                break
        assert response is not None
        return Sent(response.status_code, _json(response), key)

    def _party_keys(self) -> list[str]:
        """Keys of the parties that sent something lately first: any party of a declaration
        may read it or force its outcome."""
        return [*self._recent, *[k for k in self.keys if k not in self._recent]]

    def force(self, declaration_id: int, outcome: str) -> None:
        response: httpx.Response | None = None
        for key in self._party_keys():
            response = self._request(
                "POST",
                f"/api/v1/declarations/{declaration_id}/outcome",
                key,
                json={"outcome": outcome},
            )
            if response.status_code != 404:
                break
        if response is None or response.status_code != 200:
            text = response.text if response is not None else "no key"
            raise LiveError(f"forcing {outcome} on declaration {declaration_id}: {text}")

    def signature_mode(self) -> str:
        """The service's signature mode (``GET /api/v1/signature-policy``, no key needed)."""
        if self._signature_mode is None:
            response = self._request("GET", "/api/v1/signature-policy", self.keys[0])
            self._signature_mode = str(_json(response).get("mode", "unknown"))
        return self._signature_mode

    def customs_certificate(self) -> Certificate:
        response = self._request("GET", "/api/v1/certificates/customs", self.keys[0])
        try:
            return load_certificate(response.content)
        except CertificateError as error:
            raise LiveError(f"GET /api/v1/certificates/customs: {error}") from None

    def receipts_xml(self, sent: Sent) -> bytes:
        """The receipts of a document as its sender pulls them in XML."""
        document_id = (sent.body.get("document") or {}).get("id")
        url = f"/api/v1/documents/{document_id}/receipts"
        response = self._request("GET", url, sent.key, params={"format": "xml"})
        if response.status_code != 200:
            raise LiveError(f"GET {url}: {response.status_code}")
        return response.content

    def declaration(self, declaration_id: int) -> dict[str, Any]:
        for key in self._party_keys():
            response = self._request("GET", f"/api/v1/declarations/{declaration_id}", key)
            if response.status_code == 200:
                return _json(response)
        raise LiveError(f"declaration {declaration_id} cannot be read with the keys given")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text[:500]}
    return body if isinstance(body, dict) else {"body": body}


@dataclass(slots=True)
class CaseRun:
    """What one case has seen so far on the service."""

    client: LiveClient
    files: list[NamedFile]
    declaration_id: int | None = None
    receipts: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> receipt
    problems: list[str] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def note_answer(self, sent: Sent) -> None:
        self.sent.append(sent)
        if self.declaration_id is None:
            self.declaration_id = sent.declaration_id
        for receipt in sent.body.get("receipts") or []:
            self.receipts[int(receipt["id"])] = receipt

    def refresh(self) -> str | None:
        """Pull the declaration's history; its state."""
        if self.declaration_id is None:
            return None
        body = self.client.declaration(self.declaration_id)
        for event in body.get("history") or []:
            if event.get("event") == "receipt":
                self.receipts[int(event["id"])] = event
        state = (body.get("declaration") or {}).get("state")
        return str(state) if state else None


def unmet_expectations(
    expected: Sequence[Expected], receipts: Sequence[Mapping[str, Any]]
) -> list[str]:
    """What is still wrong: each expected sequence must appear in order, and end the receipts
    of its message."""
    wrong = []
    for want in expected:
        seen = [int(r["return_status"]) for r in receipts if r["message_code"] == want.message]
        position = 0
        for status in seen:
            if position < len(want.statuses) and status == want.statuses[position]:
                position += 1
        if position < len(want.statuses) or not seen or seen[-1] != want.statuses[-1]:
            shown = " → ".join(map(str, seen)) or "none"
            wanted = " → ".join(map(str, want.statuses))
            wrong.append(f"{want.message}: expected {wanted}, got {shown}")
    return wrong


def _run_step(run: CaseRun, step: Step) -> None:
    before = set(run.receipts)
    if step.action is Action.SUBMIT:
        _submit_set(run, step)
    elif step.action is Action.FOLLOW:
        _follow(run, step)
    else:
        _send_again(run, step)
    _await(run, step, before)


def _submit_set(run: CaseRun, step: Step) -> None:
    """The case's new documents in set order (清单 last), forcing the outcome through the API
    just before the 清单 when its note carries no marker."""
    base = [(n, d) for n, d in run.files if app_type_of(d) == "1" and not is_follow_up(d)]
    ordered = sorted(base, key=lambda f: send_rank(kind_of(f[1]) or Kind.RETURN))
    marker_in_note = any("DANCHUANG:" in n.upper() for n in inventory_notes(base))
    for _, data in ordered:
        if kind_of(data) is Kind.INVENTORY and step.forced_outcome and not marker_in_note:
            if run.declaration_id is None:
                run.problems.append("live: no declaration to force the outcome on")
            else:
                run.client.force(run.declaration_id, step.forced_outcome)
        sent = run.client.submit(data)
        if step.http_refusal:
            if sent.status_code < 400:
                run.problems.append(f"live: expected a 4xx refusal, got {sent.status_code}")
            continue
        if sent.status_code >= 400:
            run.problems.append(f"live: HTTP {sent.status_code}: {sent.body}")
        run.note_answer(sent)


def _send_again(run: CaseRun, step: Step) -> None:
    """A resend (same bytes), a duplicate (fresh guid), a change or a delete."""
    app_type = {Action.CHANGE: "2", Action.DELETE: "3"}.get(step.action, "1")
    original = of_message(run.files, step.message, app_type)
    if original is None:
        run.problems.append(f"live: no {step.message} with appType {app_type} to send")
        return
    data = fresh_guid(original) if step.action is Action.DUPLICATE else original
    sent = run.client.submit(data)
    if step.action is Action.RESEND and not sent.body.get("repeat"):
        run.problems.append(f"live: a resend must be answered as a repeat: {sent.status_code}")
    run.note_answer(sent)


def _follow(run: CaseRun, step: Step) -> None:
    """The folder's message after the 清单; one that names the 清单 (a cancellation, a return)
    names it by the invtNo customs gave it."""
    data = next((d for _, d in run.files if is_follow_up(d) and
                 root_name(d) == f"{step.message}Message"), None)  # fmt: skip
    if data is None:
        run.problems.append(f"live: no {step.message} in the folder to send")
        return
    numbers = [s.body["document"].get("invt_no") for s in run.sent if s.body.get("document")]
    invt_no = next((n for n in reversed(numbers) if n), None)
    if invt_no is not None:
        data = with_invt_no(data, invt_no)
    elif with_invt_no(data, "?") != data:
        run.problems.append(
            f"live: {step.message} names a 清单, and none was answered with its invtNo"
        )
        return
    run.note_answer(run.client.submit(data))


def _await(run: CaseRun, step: Step, before: set[int]) -> None:
    deadline = time.monotonic() + run.client.timeout
    while True:
        state = run.refresh()
        new = [r for i, r in sorted(run.receipts.items()) if i not in before]
        wrong = unmet_expectations(step.expect, new)
        if not wrong or state in FINAL_STATES or time.monotonic() > deadline:
            run.problems += [f"live: {w}" for w in wrong]
            return
        time.sleep(run.client.poll_interval)


def _receipts_inkind_of(run: CaseRun) -> None:
    """A document sent in an envelope gets its receipts in a DxpMsg that customs signed with
    the certificate the service publishes (docs/api.md, "Signatures")."""
    customs = run.client.customs_certificate()
    for sent in run.sent:
        xml = run.client.receipts_xml(sent)
        name = root_name(xml)
        if name != "DxpMsg":
            run.problems.append(f"live: receipts came as {name}, not in a DxpMsg")
            continue
        checked = verify_signature(xml)
        if checked.problems or checked.certificate != customs:
            said = "; ".join(checked.problems.values()) or "not signed by the customs certificate"
            run.problems.append(f"live: the receipts' DxpMsg signature: {said}")


def check_case_live(client: LiveClient, result: CaseResult, files: list[NamedFile]) -> None:
    """Run one case's steps on the service; its problems join the offline ones."""
    run = CaseRun(client, files)
    try:
        for step in result.case.steps:
            _run_step(run, step)
            if run.problems:
                break
        if result.case.exhibit.transport and not run.problems:
            _receipts_inkind_of(run)
    except LiveError as error:
        run.problems.append(f"live: {error}")
    result.problems += run.problems
    if run.problems:
        result.outcome = Outcome.FAILED
    else:
        where = f"declaration {run.declaration_id}" if run.declaration_id else "no declaration"
        result.notes.append(f"live: answered as expected ({where})")


def check_live(client: LiveClient, run: Run, by_case: Mapping[str, list[NamedFile]]) -> None:
    """Every case that passed offline is run live (a failed one would only fail again)."""
    for result in run.results:
        if result.outcome is not Outcome.PASSED:
            continue
        if not result.case.live:
            result.notes.append("live: not run (offline only: see the case's preconditions)")
            continue
        wanted = result.case.live_signature_mode
        if wanted and client.signature_mode() != wanted:
            result.notes.append(
                f"live: not run (it needs a service in signature mode {wanted}; this one is "
                f"in {client.signature_mode()})"
            )
            continue
        check_case_live(client, result, by_case.get(result.case.id, []))
