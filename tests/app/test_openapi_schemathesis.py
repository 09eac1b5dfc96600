"""Schemathesis against the real server: the OpenAPI description is one a client can trust.

`danchuang serve` runs as a subprocess on a loopback port with a temporary SQLite database and
the demo enterprises of `danchuang seed-demo`. Schemathesis reads /openapi.json and sends every
operation generated requests (its examples, coverage, fuzzing and stateful phases, a fixed seed
and a fixed number of examples per operation, so the run is bounded), checking that no answer
is a server error and that every status, content type and body is the one described.

Once with an enterprise's key (every operation; the admin ones answer 403), once with the admin
key for the operations that need it. A failure prints Schemathesis' own report: each failing
operation, the check, and a curl command that reproduces it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis as st
from live_server import ADMIN, DANCHUANG, Server

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
SEED = 20261204
EXAMPLES = 12  # per operation and phase: the whole run is a few hundred requests
DEMO_KEY_OF = "3301960105"  # the import customs broker of seed-demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("schemathesis")
    live = Server(f"sqlite:///{workdir / 'danchuang.db'}", workdir)
    live.start()
    try:
        yield live
    finally:
        live.stop()


def danchuang(server: Server, *arguments: str) -> None:
    done = subprocess.run(
        [str(DANCHUANG), *arguments],
        cwd=server.workdir,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def demo_keys(server: Server) -> dict[str, str]:
    """The demo enterprises' keys (code -> key), provisioned as a newcomer does them."""
    danchuang(server, "seed-demo")
    keys = json.loads((server.workdir / "var" / "demo-keys.json").read_text(encoding="utf-8"))
    return {str(code): str(key) for code, key in keys.items()}


def schemathesis(server: Server, key: str, *options: str) -> None:
    """Run Schemathesis against the server's description; fail with its report."""
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{server.base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(SEED),
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--continue-on-failure",  # every failure of an operation in the report, not the first
        *options,
    ]
    run = subprocess.run(
        command,
        cwd=server.workdir,  # no schemathesis.toml of the checkout's
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, (
        f"Schemathesis found problems (exit {run.returncode}); its report:\n{report}\n"
        f"server log (tail):\n{server.logs()}"
    )
    assert " passed" in report, report  # it tested something


def test_every_operation_answers_as_described(server: Server, demo_keys: dict[str, str]) -> None:
    schemathesis(server, demo_keys[DEMO_KEY_OF])


def test_the_admin_operations_answer_as_described(server: Server) -> None:
    schemathesis(server, ADMIN, "--include-tag", "enterprises")


# The order a set's members are sent in: the 清单 meets a complete set.
_SENDING_ORDER = ("order", "payment", "waybill", "inventory")


def test_a_real_set_answers_as_described(
    server: Server, demo_keys: dict[str, str], tmp_path: Path
) -> None:
    """Generated requests rarely get past validation; a real set, sent by its demo parties
    (`danchuang samples --for-demo`), checks the described successes against real answers."""
    danchuang(server, "samples", "9610", "--out", str(tmp_path), "--for-demo")
    files = sorted(
        tmp_path.rglob("*.xml"), key=lambda f: _SENDING_ORDER.index(f.stem.split("-")[0])
    )
    assert len(files) == 4, files
    api = st.openapi.from_url(f"{server.base_url}/openapi.json")

    def check(answer: httpx.Response, path: str, method: str = "GET") -> dict[str, Any]:
        assert answer.is_success, answer.text
        api[path][method].validate_response(answer)  # raises with the mismatch
        return answer.json() if "json" in answer.headers["content-type"] else {}

    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        sent: list[dict[str, Any]] = []
        for file in files:
            data = file.read_bytes()
            sender = re.search(rb"copCode>(\w+)<", data)
            assert sender is not None, file
            headers = {
                "Authorization": f"Bearer {demo_keys[sender.group(1).decode()]}",
                "Content-Type": "application/xml",
            }
            answer = client.post("/api/v1/documents", content=data, headers=headers)
            sent.append(check(answer, "/api/v1/documents", "POST"))
            assert answer.status_code == 201, answer.text
        agent = {"Authorization": f"Bearer {demo_keys[DEMO_KEY_OF]}"}
        inventory = sent[-1]["document"]["id"]
        declaration = sent[-1]["declaration"]["id"]
        for path, template in [
            (f"/api/v1/documents/{inventory}", "/api/v1/documents/{document_id}"),
            (f"/api/v1/documents/{inventory}/xml", "/api/v1/documents/{document_id}/xml"),
            (f"/api/v1/documents/{inventory}/receipts", "/api/v1/documents/{document_id}/receipts"),
            (
                f"/api/v1/documents/{inventory}/receipts?format=xml",
                "/api/v1/documents/{document_id}/receipts",
            ),
            (f"/api/v1/declarations/{declaration}", "/api/v1/declarations/{declaration_id}"),
            ("/api/v1/declarations", "/api/v1/declarations"),
            ("/api/v1/receipts", "/api/v1/receipts"),
        ]:
            check(client.get(path, headers=agent), template)
