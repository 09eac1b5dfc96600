"""``/certificates``: an operator registers an enterprise's certificate or has the test CA issue
one; the sandbox's published certificates are listed."""

from __future__ import annotations

import re

import httpx
from dashboard_support import assert_self_contained

from app import accounts
from app.db.engine import Database
from app.db.models import Role
from declarations import issue_certificate, load_certificate, load_private_key, new_key


def _enterprise(database: Database, code: str) -> None:
    with database.write() as session:
        accounts.create_enterprise(session, code=code, name=f"Test {code}", roles=[Role.EBC])


async def test_the_page_lists_published_and_registered_certificates(
    client: httpx.AsyncClient, database: Database
) -> None:
    _enterprise(database, "3301960501")
    page = await client.get("/certificates")
    assert page.status_code == 200
    assert_self_contained(page.text)
    customs = load_certificate((await client.get("/api/v1/certificates/customs")).text)
    assert customs.fingerprint in page.text and "None yet" in page.text

    key = new_key()
    cert = issue_certificate(issuer_key=key, issuer=None, subject_key=key, common_name="own cert")
    form = {"enterprise": "3301960501", "certificate": cert.pem()}
    registered = await client.post("/certificates", data=form)
    assert registered.status_code == 200
    assert "own cert" in registered.text and cert.fingerprint[:16] in registered.text
    again = await client.post("/certificates", data=form)
    assert again.status_code == 409 and "registered" in again.text
    junk = await client.post("/certificates", data={**form, "certificate": "junk"})
    assert junk.status_code == 422 and 'id="form-error"' in junk.text


async def test_issuing_shows_the_key_once_and_registers_the_certificate(
    client: httpx.AsyncClient, database: Database
) -> None:
    _enterprise(database, "3301960502")
    issued = await client.post(
        "/certificates/issue", data={"enterprise": "3301960502", "key_type": "sm2"}
    )
    assert issued.status_code == 200
    found = re.search(r'<textarea id="issued-key"[^>]*>([^<]+)</textarea>', issued.text)
    cert_found = re.search(r'<textarea id="issued-cert"[^>]*>([^<]+)</textarea>', issued.text)
    assert found and cert_found
    key = load_private_key(found.group(1))
    cert = load_certificate(cert_found.group(1))
    assert key.public_key == cert.public_key and cert.organization == "3301960502"
    again = await client.get("/certificates")
    assert cert.fingerprint[:16] in again.text
    assert "BEGIN PRIVATE KEY" not in again.text  # shown once, never stored
    unknown = await client.post("/certificates/issue", data={"enterprise": "0000000000"})
    assert unknown.status_code == 404
