"""The in-process cache of verified API keys (app.accounts.KeyCache): what it remembers, and when a
revocation takes effect — at once in this process, within the TTL from another process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from service_support import Party, PartyFactory

from app import accounts
from app.accounts import KeyCache
from app.db.engine import Database
from app.db.models import Role
from app.main import create_app
from app.settings import Settings

TTL_S = 5.0
ME = "/api/v1/enterprises/me"


@dataclass
class Clock:
    """A clock the test moves by hand: the cache's entries age without the test sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[FastAPI]:
    service = create_app(settings)
    service.state.key_cache = KeyCache(TTL_S, timer=clock)
    async with service.router.lifespan_context(service):
        yield service


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def seller(make_party: PartyFactory) -> Party:
    return make_party("1101000001", Role.EBC)


def test_a_verified_key_is_remembered_for_the_ttl(
    database: Database, seller: Party, clock: Clock
) -> None:
    cache = KeyCache(TTL_S, timer=clock)
    assert cache.get(seller.key) is None
    principal = cache.verify(database, seller.key)
    assert principal is not None and principal.code == "1101000001"
    assert cache.get(seller.key) == principal
    clock.now += TTL_S - 0.1
    assert cache.get(seller.key) == principal
    clock.now += 0.2
    assert cache.get(seller.key) is None  # expired: the database is asked again


def test_unknown_keys_are_not_remembered_and_ttl_zero_turns_the_cache_off(
    database: Database, seller: Party
) -> None:
    cache = KeyCache(TTL_S)
    wrong = seller.key[:-4] + "AAAA"
    assert cache.verify(database, wrong) is None
    assert cache.get(wrong) is None
    off = KeyCache(0)
    assert off.verify(database, seller.key) is not None
    assert off.get(seller.key) is None


def test_a_revocation_committed_during_a_check_is_not_outlived(
    database: Database, seller: Party
) -> None:
    """The check reads the key before the revoking transaction commits (so finds it active);
    the commit must still empty the cache."""
    cache = KeyCache(TTL_S)
    with database.write() as session:
        enterprise = accounts.find_enterprise(session, seller.code)
        assert accounts.revoke_keys(session, enterprise) == 1
        assert cache.verify(database, seller.key) is not None  # the old row, still committed
    assert cache.get(seller.key) is None
    assert cache.verify(database, seller.key) is None


async def test_a_key_revoked_in_this_process_is_refused_at_once(
    client: httpx.AsyncClient, seller: Party, admin_headers: dict[str, str]
) -> None:
    assert (await client.get(ME, headers=seller.headers)).status_code == 200  # now cached
    prefix = seller.key[: len("dck_") + 8]
    revoked = await client.delete(
        f"/api/v1/enterprises/{seller.code}/keys/{prefix}", headers=admin_headers
    )
    assert revoked.status_code == 204
    refused = await client.get(ME, headers=seller.headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "auth.unknown_key"


async def test_an_enterprise_change_in_this_process_shows_at_once(
    client: httpx.AsyncClient, seller: Party
) -> None:
    before = await client.get(ME, headers=seller.headers)
    assert before.json()["dxp_id"] is None
    put = await client.put(
        "/api/v1/enterprises/me/dxp-id", json={"dxp_id": "DXPENT0000000001"}, headers=seller.headers
    )
    assert put.status_code == 200, put.text
    after = await client.get(ME, headers=seller.headers)
    assert after.json()["dxp_id"] == "DXPENT0000000001"


_REVOKE = """
import sys
from app import accounts
from app.db.engine import Database
database = Database.from_url(sys.argv[1])
with database.write() as session:
    print(accounts.revoke_keys(session, accounts.find_enterprise(session, sys.argv[2])))
database.dispose()
"""


async def test_a_key_revoked_by_another_process_is_refused_within_the_ttl(
    client: httpx.AsyncClient, seller: Party, settings: Settings, clock: Clock
) -> None:
    assert (await client.get(ME, headers=seller.headers)).status_code == 200  # now cached
    done = subprocess.run(
        [sys.executable, "-c", _REVOKE, settings.database_url, seller.code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "1"
    # This process was not told: the key it verified stays trusted until its entry expires,
    clock.now += TTL_S - 0.1
    assert (await client.get(ME, headers=seller.headers)).status_code == 200
    # and no longer: the database is asked again and refuses it.
    clock.now += 0.2
    assert (await client.get(ME, headers=seller.headers)).status_code == 401
