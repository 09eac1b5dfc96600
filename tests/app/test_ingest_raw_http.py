"""The ingest benchmark's HTTP client (benchmarks/raw_http.py) against real servers on loopback:
``danchuang serve`` as the benchmark starts it, and a plain asyncio server that answers, or
closes, as each test tells it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from benchmarks import ingest_load
from benchmarks.ingest_server import ADMIN_KEY, Server, spawned_server
from benchmarks.raw_http import ClosedBeforeAnswerError, Connection, prepare

LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``danchuang serve`` (SQLite, API only) as benchmarks/ingest.py starts it."""
    workdir = tmp_path_factory.mktemp("raw-http")
    with spawned_server(f"sqlite:///{workdir / 'raw.db'}", workdir, engine=False) as server:
        yield server


async def test_one_connection_serves_a_workers_requests(served: Server) -> None:
    health = prepare(served.base, "GET", "/healthz")
    async with Connection(served.base) as connection:
        answers = [await connection.send(health) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert connection.opened == 1  # kept alive between the requests
    first = answers[0]
    assert int(first.headers["content-length"]) == len(first.content) > 0
    assert first.json()["status"] == "ok"


async def test_an_error_status_comes_with_its_body(served: Server) -> None:
    headers = {"Authorization": "Bearer not-a-key", "Content-Type": "application/xml"}
    post = prepare(served.base, "POST", "/api/v1/documents", headers, b"<CEB311Message/>")
    async with Connection(served.base) as connection:
        refused = await connection.send(post)
        after = await connection.send(prepare(served.base, "GET", "/healthz"))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "auth.unknown_key", refused.text
    assert after.status_code == 200 and connection.opened == 1


@pytest.mark.slow
async def test_a_connection_the_server_closed_when_idle_is_opened_again(served: Server) -> None:
    health = prepare(served.base, "GET", "/healthz")
    async with Connection(served.base, idle_s=60) as connection:  # not replaced before use
        assert (await connection.send(health)).status_code == 200
        await asyncio.sleep(5.5)  # uvicorn closes a connection idle for 5 s
        assert (await connection.send(health)).status_code == 200
    assert connection.opened == 2


@LINUX
async def test_a_message_sent_twice_is_a_failure_not_a_second_submission(served: Server) -> None:
    sets = ingest_load.build_sets(2, seed=5)
    keys = await ingest_load.register(served.base, ADMIN_KEY, ingest_load.parties(sets))
    submissions = [ingest_load.as_submission(s) for s in sets]
    first = await ingest_load.drive(served, keys, submissions, 2)
    assert first.failures == {} and first.requests == len(first.latencies_ms) >= 6
    again = await ingest_load.drive(served, keys, submissions, 2)
    # every one answered 200, the stored answer of a resend (not 201): a failure each
    assert list(again.failures) == [200] and again.failures[200][0] == again.requests


class Scripted:
    """A plain HTTP/1.1 server on loopback: for each request it reads, the next of ``acts``
    ('answer': 200 with Content-Length; 'chunked'; 'to-close': a body ended by the close;
    'drop': close without answering)."""

    def __init__(self, acts: list[str]) -> None:
        self.acts = acts
        self.requests: list[bytes] = []  # every request body read, in order
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                body = await reader.readexactly(length)
                self.requests.append(body)
                act = self.acts.pop(0)
                if act == "drop":
                    break
                if act == "answer":
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                elif act == "chunked":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    writer.write(b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n")
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
                    break
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass  # the client closed its end
        writer.close()


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, str]]:
    server = Scripted([])
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server, f"http://127.0.0.1:{port}"


async def test_chunked_and_close_ended_bodies(scripted: tuple[Scripted, str]) -> None:
    server, base = scripted
    server.acts += ["chunked", "to-close", "answer"]
    async with Connection(base) as connection:
        chunked = await connection.send(prepare(base, "POST", "/", body=b"one"))
        ended = await connection.send(prepare(base, "POST", "/", body=b"two"))
        after = await connection.send(prepare(base, "POST", "/", body=b"three"))
    assert chunked.content == b"abcde" and connection.opened == 2  # kept after the chunked one
    assert ended.content == b"two" and after.content == b"three"


async def test_a_reused_connection_closed_unanswered_is_retried_once(
    scripted: tuple[Scripted, str],
) -> None:
    server, base = scripted
    server.acts += ["answer", "drop", "answer"]
    async with Connection(base) as connection:
        await connection.send(prepare(base, "POST", "/", body=b"first"))
        answer = await connection.send(prepare(base, "POST", "/", body=b"second"))
    assert answer.status_code == 200 and answer.content == b"second"
    assert server.requests == [b"first", b"second", b"second"] and server.connections == 2


async def test_a_fresh_connection_closed_unanswered_is_not_retried(
    scripted: tuple[Scripted, str],
) -> None:
    server, base = scripted
    server.acts += ["drop", "drop"]
    async with Connection(base) as connection:
        with pytest.raises(ClosedBeforeAnswerError):
            await connection.send(prepare(base, "POST", "/", body=b"once"))
    assert server.requests == [b"once"]


async def test_a_connection_idle_too_long_is_replaced_before_a_request(
    scripted: tuple[Scripted, str],
) -> None:
    server, base = scripted
    server.acts += ["answer", "answer"]
    async with Connection(base, idle_s=0.05) as connection:
        await connection.send(prepare(base, "POST", "/", body=b"first"))
        await asyncio.sleep(0.1)
        await connection.send(prepare(base, "POST", "/", body=b"second"))
    assert server.connections == connection.opened == 2
    assert server.requests == [b"first", b"second"]  # each sent once
