"""What the end-to-end tests over real HTTP share (`danchuang serve` as a subprocess): the
parties of a sample set, each registered with its own key, and a bounded wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from live_server import register_over_http

from declarations.sample_followups import SAMPLE_SITE
from declarations.samples import SampleSet, to_bytes

XML = {"Content-Type": "application/xml"}


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Parties:
    """The set's platform-side parties and the sample site's operator, each with its key."""

    def __init__(self, client: httpx.Client, s: SampleSet) -> None:
        deal = s.deal
        self.client = client
        self.keys = {
            role: register_over_http(client, code, role)
            for role, code in (
                ("ebc", deal.seller.code),
                ("pay", deal.payer_company.code),
                ("logistics", deal.carrier.code),
                ("agent", deal.agent.code),
                ("operator", SAMPLE_SITE.code),
            )
        }

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def send(self, role: str, data: bytes) -> dict[str, Any]:
        answer = self.client.post("/api/v1/documents", content=data,
                                  headers={**self.headers(role), **XML})  # fmt: skip
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def send_set(self, s: SampleSet) -> dict[str, Any]:
        """Each document of the set by its own party (清单 last); the 清单's answer."""
        roles = ("ebc", "pay", "logistics", "agent")  # order, payment, waybill, 清单
        answers = [
            self.send(r, to_bytes(d)) for r, d in zip(roles, s.documents.values(), strict=True)
        ]
        return answers[-1]

    def declaration(self, ident: int) -> dict[str, Any]:
        return dict(
            self.client.get(f"/api/v1/declarations/{ident}", headers=self.headers("agent")).json()
        )

    def codes(self, ident: int) -> list[tuple[str, int]]:
        """The declaration's receipts so far, as (receipt message, returnStatus)."""
        return [
            (e["message_code"], e["return_status"])
            for e in self.declaration(ident)["history"]
            if e["event"] == "receipt"
        ]


def statuses(answer: dict[str, Any]) -> list[int]:
    """The statuses a message was answered with."""
    return [r["return_status"] for r in answer["receipts"]]
