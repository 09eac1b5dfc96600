"""A lean HTTP/1.1 client for the ingest benchmark's load: one keep-alive connection per worker
over asyncio streams, each request serialised to bytes before the load starts.

The load generator shares the machine's two cores with the server it measures; httpx cost it
about 2-4 ms of CPU a request, which the server then lacked (docs/performance.md,
"Measuring"). This client does only what the load needs: write the prepared bytes, read the
status line, the headers and the body (by Content-Length, chunked, or up to the close), and
keep the connection for the worker's next request.

A connection the server has closed, or idle for longer than ``IDLE_S``, is replaced by a fresh
one before the next request: uvicorn closes a connection idle for 5 s (its default keep-alive
timeout, which ``danchuang serve`` keeps). Should a reused connection still close before the
first byte of its answer, the request is sent once more on a fresh connection: the server had
not answered it, so it had most likely not read it either. Were it a message the service had
stored after all, the resend is answered 200 with the stored answer (a resend of a message
received before, see app/api/routes/documents.py) rather than 201, which the benchmark counts
as a failure: a resend never counts as a second submission.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IDLE_S = 4.0  # reuse a connection idle at most this long (uvicorn closes one idle for 5 s)
_NO_BODY = frozenset({204, 304})  # answers without a body whatever their headers say
_END_OF_HEAD = b"\r\n\r\n"
_CUT = "the server closed the connection within its answer"


@dataclass(frozen=True)
class Request:
    """A request as the bytes sent: its head (request line and headers) and its body."""

    head: bytes
    body: bytes


@dataclass(frozen=True)
class Answer:
    """A response: its status, its headers (names in lower case) and its body."""

    status_code: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:  # whatever JSON the body holds
        return json.loads(self.content)


class ClosedBeforeAnswerError(ConnectionError):
    """The server closed the connection before the first byte of its answer."""


def prepare(
    base: str, method: str, path: str, headers: Mapping[str, str] | None = None, body: bytes = b""
) -> Request:
    """``method path`` to the server at ``base`` (``http://host:port``), with ``headers``, a
    Host and a Content-Length, serialised once."""
    host = urlsplit(base).netloc
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    return Request(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), body)


class Connection:
    """One keep-alive connection to the server at ``base``, for one worker: one request at a
    time, opened when first needed and opened again when the server has closed it."""

    def __init__(self, base: str, *, timeout: float = 300.0, idle_s: float = IDLE_S) -> None:
        address = urlsplit(base)
        if address.scheme != "http" or address.hostname is None:
            raise ValueError(f"a plain http://host:port address, not {base!r}")
        self.host, self.port = address.hostname, address.port or 80
        self.timeout, self.idle_s = timeout, idle_s
        self.opened = 0  # connections opened so far (the first, then every reconnection)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def send(self, request: Request) -> Answer:
        """Send ``request`` and read its answer, within ``timeout`` seconds; once more on a
        fresh connection when a reused one closes before the answer's first byte."""
        async with asyncio.timeout(self.timeout):
            if self._reader is not None and (
                self._reader.at_eof() or time.monotonic() - self._last_used > self.idle_s
            ):
                await self.close()  # closed by the server, or it may be closing it right now
            reused = self._writer is not None
            try:
                return await self._exchange(request)
            except ClosedBeforeAnswerError:
                if not reused:
                    raise
            return await self._exchange(request)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is None:
            return
        writer.close()
        with contextlib.suppress(OSError):  # already reset by the server: closed all the same
            await writer.wait_closed()

    async def _exchange(self, request: Request) -> Answer:
        """One request and its answer on the open connection (opened first if there is none);
        the connection is closed when anything goes wrong or the server asks to close it."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        reader, writer = self._reader, self._writer
        assert reader is not None  # opened together with the writer
        try:
            answer, keep = await self._answer(reader, writer, request)
        except BaseException:
            await self.close()
            raise
        if keep:
            self._last_used = time.monotonic()
        else:
            await self.close()
        return answer

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request
    ) -> tuple[Answer, bool]:
        """Write the request, read its answer; the answer and whether the connection stays."""
        try:
            writer.write(request.head + request.body)  # one send, not two
            await writer.drain()
            head = await reader.readuntil(_END_OF_HEAD)
        except asyncio.IncompleteReadError as error:
            if error.partial:
                raise ConnectionError(_CUT) from error
            raise ClosedBeforeAnswerError("the server closed the connection") from error
        except (ConnectionResetError, BrokenPipeError) as error:
            raise ClosedBeforeAnswerError(str(error)) from error
        version, status, headers = _parse_head(head)
        keep = headers.get("connection", "").lower() != "close" and version == b"HTTP/1.1"
        if status in _NO_BODY or 100 <= status < 200:
            return Answer(status, headers, b""), keep
        try:
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = await _chunked(reader)
            elif "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            else:  # neither: the body ends with the connection
                body, keep = await reader.read(), False
        except asyncio.IncompleteReadError as error:
            raise ConnectionError(_CUT) from error
        return Answer(status, headers, body), keep


def _parse_head(head: bytes) -> tuple[bytes, int, dict[str, str]]:
    """The status line's version and status, and the headers (lower-case names) of a head."""
    status_line, *lines = head[: -len(_END_OF_HEAD)].split(b"\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ConnectionError(f"not an HTTP status line: {status_line[:100]!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    return parts[0], int(parts[1]), headers


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    """A chunked body (RFC 9112, section 7.1): chunks of a hexadecimal size each, up to the
    chunk of size 0 and the trailer's empty line."""
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
        if size == 0:
            break
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)  # the chunk's own CRLF
    while await reader.readuntil(b"\r\n") != b"\r\n":
        pass  # trailer fields, unused
    return b"".join(chunks)
