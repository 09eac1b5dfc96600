"""The ingest benchmark's load: the sets it sends, the parties that send them, and the bounded
async load generator that sends one-record messages (four POSTs a set) or batched messages
(one message of N records per party for a chunk of N sets). The load goes over
``benchmarks/raw_http.py``, each worker on its own keep-alive connection, every request
serialised before the clock starts; httpx makes the few calls before it (registration,
webhooks)."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import httpx
from lxml import etree

from benchmarks.ingest_server import CpuReading, Server, known_sum, read_cpu
from benchmarks.ingest_watch import Receiver
from benchmarks.raw_http import Answer, Connection, Request, prepare
from declarations import BY_ROOT, Direction, Kind, Regime, validate_set
from declarations.sample_batches import batched, sharing_parties
from declarations.samples import SampleSet, generate_sets, to_bytes

MIX = [(Regime.DIRECT, Direction.IMPORT), (Regime.BONDED, Direction.IMPORT),
       (Regime.DIRECT, Direction.EXPORT), (Regime.B2B_DIRECT, Direction.EXPORT)]  # fmt: skip
ROLE_OF = {Kind.ORDER: "ebc", Kind.PAYMENT: "pay", Kind.WAYBILL: "logistics",
           Kind.INVENTORY: "agent"}  # fmt: skip
_SEEDS = 1_000_000  # seeds of one run: seed x _SEEDS + n, so that no two rounds share a seed


@dataclass(frozen=True)
class Submission:
    """One set as the load generator sends it: (party code, XML) in sending order."""

    documents: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Message:
    """One batched message: its sender, its XML and how many records it holds."""

    code: str
    xml: bytes
    records: int


@dataclass(frozen=True)
class Chunk:
    """N sets with the same parties, sent as one message per kind, in sending order."""

    sets: int
    messages: list[Message]
    parties: dict[str, list[str]]  # its senders' codes -> their roles


def kind_of(root: etree._Element) -> Kind:
    return BY_ROOT[etree.QName(root).localname].kind


def build_sets(count: int, seed: int) -> list[SampleSet]:
    per_flow = -(-count // len(MIX))
    sets = [s for regime, d in MIX for s in generate_sets(regime, d, seed=seed, count=per_flow)]
    return sets[:count]


def single_round(count: int, seed: int, round_: int) -> list[SampleSet]:
    """Round ``round_`` of one-record sets: its own seed, so guids never repeat."""
    return build_sets(count, seed * _SEEDS + _SEEDS // 2 + round_)


def senders(sample: SampleSet) -> dict[Kind, str]:
    """The code of the party that sends each kind of document of the set."""
    deal = sample.deal
    return {Kind.ORDER: deal.seller.code, Kind.PAYMENT: deal.payer_company.code,
            Kind.WAYBILL: deal.carrier.code, Kind.INVENTORY: deal.agent.code}  # fmt: skip


def as_submission(sample: SampleSet) -> Submission:
    sender = senders(sample)
    return Submission(
        [(sender[kind_of(root)], to_bytes(root)) for root in sample.documents.values()]
    )


def parties(sets: Sequence[SampleSet]) -> dict[str, list[str]]:
    """Party code -> its roles, for every party of the sets (a generated company may act in
    two roles, e.g. a carrier that is also the declarant)."""
    found: dict[str, set[str]] = {}
    for sample in sets:
        for kind, code in senders(sample).items():
            found.setdefault(code, set()).add(ROLE_OF[kind])
    return {code: sorted(roles) for code, roles in found.items()}


def chunk_sets(size: int, seed: int, index: int) -> list[SampleSet]:
    """Chunk ``index`` of a run: ``size`` sets of one flow (the flows of ``MIX`` in turn) whose
    enterprises are the flow's same five, drawn from the run's seed; each chunk its own seed."""
    regime, direction = MIX[index % len(MIX)]
    return sharing_parties(regime, direction, seed=seed * _SEEDS + index + 1, count=size,
                           parties_seed=seed * _SEEDS)  # fmt: skip


def as_chunk(sets: Sequence[SampleSet]) -> Chunk:
    """The sets as one message per kind, each by its sender, in the sets' own order of kinds
    (order, payment, waybill, then the 清单)."""
    by_kind: dict[Kind, list[etree._Element]] = {}
    sender: dict[Kind, str] = {}
    for sample in sets:
        codes = senders(sample)
        for root in sample.documents.values():
            kind = kind_of(root)
            by_kind.setdefault(kind, []).append(root)
            sender.setdefault(kind, codes[kind])
    messages = [
        Message(sender[k], to_bytes(batched(roots)), len(roots)) for k, roots in by_kind.items()
    ]
    return Chunk(len(sets), messages, parties(sets))


def chunked_sets(count: int, size: int, seed: int, start: int = 0) -> list[list[SampleSet]]:
    """``count`` sets in chunks of ``size`` (``chunk_sets``; the last may be smaller), chunk
    indices from ``start`` (a soak's later rounds continue the numbering, so seeds never
    repeat)."""
    return [
        chunk_sets(min(size, count - n * size), seed, start + n) for n in range(-(-count // size))
    ]


def build_chunks(count: int, size: int, seed: int, start: int = 0) -> list[Chunk]:
    """``chunked_sets``, each chunk as one message per kind (``as_chunk``)."""
    return [as_chunk(sets) for sets in chunked_sets(count, size, seed, start)]


# --- the load ---------------------------------------------------------------------------------


async def register(base: str, admin_key: str, codes: dict[str, list[str]]) -> dict[str, str]:
    """Register every party (409 = already there) and issue it a key; code -> key."""
    admin = {"Authorization": f"Bearer {admin_key}"}
    keys: dict[str, str] = {}
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(code: str, roles: list[str]) -> None:
            async with limit:
                body = {"code": code, "name": f"Benchmark {code}", "roles": roles}
                answer = await client.post("/api/v1/enterprises", json=body, headers=admin)
                if answer.status_code not in (201, 409):
                    raise SystemExit(f"cannot register {code}: {answer.text}")
                key = await client.post(f"/api/v1/enterprises/{code}/keys", headers=admin)
                key.raise_for_status()
                keys[code] = key.json()["key"]

        await asyncio.gather(*(one(code, roles) for code, roles in codes.items()))
    return keys


async def subscribe(base: str, keys: dict[str, str], receiver: Receiver) -> str | None:
    """A webhook for every party, to the receiver's URL/<code>, for every receipt, taking as
    many a POST as the receiver asks; None, or why not."""
    limit = asyncio.Semaphore(16)
    refused: list[str] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(code: str, key: str) -> None:
            async with limit:
                body = {
                    "url": f"{receiver.url}/{code}",
                    "events": [],
                    "receipts_per_post": receiver.receipts_per_post,
                }
                answer = await client.post("/api/v1/webhooks", json=body, headers=_headers(key))
                if answer.status_code != 201:
                    refused.append(f"{code}: HTTP {answer.status_code} {answer.text[:200]}")

        await asyncio.gather(*(one(code, key) for code, key in keys.items()))
    return refused[0] if refused else None


@dataclass
class LoadResult:
    sets: int
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: dict[int, tuple[int, str]]  # HTTP status -> (count, first answer's body)
    server_cpu_s: float | None = None  # the server's CPU seconds during the load
    client_cpu_s: float = 0.0  # the load generator's own CPU seconds meanwhile
    records: int = 0  # records sent (a one-record message: one a request)
    database_cpu_s: float | None = None  # PostgreSQL's CPU seconds meanwhile (on this machine)
    ended: CpuReading | None = None  # the CPU readings when the load ended (a drain goes on)

    @property
    def sets_per_s(self) -> float:
        return self.sets / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def __add__(self, other: LoadResult) -> LoadResult:
        """Two loads of the same kind as one (a soak's rounds)."""
        failures = dict(self.failures)
        for status, (count, first) in other.failures.items():
            before, shown = failures.get(status, (0, first))
            failures[status] = (before + count, shown)
        return LoadResult(self.sets + other.sets, self.requests + other.requests,
                          self.seconds + other.seconds, self.latencies_ms + other.latencies_ms,
                          failures, known_sum(self.server_cpu_s, other.server_cpu_s),
                          self.client_cpu_s + other.client_cpu_s, self.records + other.records,
                          known_sum(self.database_cpu_s, other.database_cpu_s),
                          other.ended)  # fmt: skip


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _headers(key: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **more}


class _Answered(Protocol):
    """An answer as the tally reads it: a raw_http ``Answer`` or an httpx ``Response``
    (benchmarks/http_floor.py)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...


_A = TypeVar("_A", bound=_Answered)


@dataclass
class _Tally:
    """Latencies and failures of one load run, filled in by its workers."""

    latencies: list[float] = field(default_factory=list)
    failures: dict[int, tuple[int, str]] = field(default_factory=dict)

    async def timed(self, request: Awaitable[_A], expected: int) -> _A:
        started = time.perf_counter()
        answer = await request
        self.latencies.append((time.perf_counter() - started) * 1000)
        if answer.status_code != expected:
            self.fail(answer.status_code, answer.text[:300])
        return answer

    def fail(self, status: int, body: str) -> None:
        count, first = self.failures.get(status, (0, body))
        self.failures[status] = (count + 1, first)


async def _measured(
    server: Server,
    tally: _Tally,
    requests: int,
    sets: int,
    workers: Sequence[Awaitable[None]],
    *,
    records: int | None = None,
) -> LoadResult:
    """Run the workers to the end; the wall time and the CPU seconds of the server (its process
    tree), of its PostgreSQL (when it runs here) and of this load generator meanwhile."""
    before, own_before = read_cpu(server), _own_cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - started
    after, own = read_cpu(server), _own_cpu_seconds() - own_before
    used = after.since(before)
    records = requests if records is None else records
    return LoadResult(sets, requests, elapsed, tally.latencies, tally.failures, used.server_s,
                      own, records, used.postgres_s, after)  # fmt: skip


def _post(server: Server, key: str, xml: bytes) -> Request:
    """A message POSTed as the party of ``key``, serialised."""
    headers = _headers(key, **{"Content-Type": "application/xml"})
    return prepare(server.base, "POST", "/api/v1/documents", headers, xml)


async def drive(
    server: Server, keys: dict[str, str], submissions: list[Submission], concurrency: int
) -> LoadResult:
    """Send every set, at most ``concurrency`` sets in flight; stops when all are sent."""
    tally = _Tally()
    queue: asyncio.Queue[list[Request]] = asyncio.Queue()
    for submission in submissions:
        queue.put_nowait([_post(server, keys[code], xml) for code, xml in submission.documents])

    async def worker() -> None:
        async with Connection(server.base) as connection:
            while not queue.empty():
                for post in queue.get_nowait():
                    await tally.timed(connection.send(post), 201)

    requests = sum(len(s.documents) for s in submissions)
    workers = [worker() for _ in range(concurrency)]
    return await _measured(server, tally, requests, len(submissions), workers)


async def drive_chunks(
    server: Server, keys: dict[str, str], chunks: list[Chunk], concurrency: int
) -> LoadResult:
    """Send every chunk, its messages one after the other, at most ``concurrency`` chunks in
    flight. A record the service refused by its rules counts as a failure (status 0)."""
    tally = _Tally()
    queue: asyncio.Queue[list[tuple[Message, Request]]] = asyncio.Queue()
    for chunk in chunks:
        queue.put_nowait([(m, _post(server, keys[m.code], m.xml)) for m in chunk.messages])

    async def worker() -> None:
        async with Connection(server.base) as connection:
            while not queue.empty():
                for message, post in queue.get_nowait():
                    answer = await tally.timed(connection.send(post), 201)
                    if answer.status_code == 201:
                        _check_records(tally, answer, message)

    requests = sum(len(c.messages) for c in chunks)
    records = sum(m.records for c in chunks for m in c.messages)
    workers = [worker() for _ in range(min(concurrency, len(chunks)))]
    sets = sum(c.sets for c in chunks)
    return await _measured(server, tally, requests, sets, workers, records=records)


def _check_records(tally: _Tally, answer: Answer, message: Message) -> None:
    """Each record's outcome in the batch's answer: one per record, none refused."""
    records = answer.json().get("records", [])
    if len(records) != message.records:
        tally.fail(0, f"{len(records)} records answered of {message.records}: {answer.text[:200]}")
    for record in records:
        if not record.get("report", {}).get("valid", False):
            tally.fail(0, f"record {record.get('number')} refused: {str(record)[:300]}")


def validation_rate(sets: list[SampleSet]) -> float:
    """In-process ``validate_set`` on the same sets: sets per CPU second (one core)."""
    payloads = [[to_bytes(r) for r in s.documents.values()] for s in sets]
    started = time.process_time()
    for documents in payloads:
        validate_set(documents)
    return len(payloads) / (time.process_time() - started)
