"""The HTTP floor: server CPU per cheapest authenticated GET, against a bare FastAPI route.

    .venv/bin/python benchmarks/http_floor.py [--requests N] [--concurrency C] [--rounds R]
                                              [--engine] [--postgres URL] [--py-spy FILE]

Starts ``danchuang serve`` (SQLite, API only unless ``--engine``) and a bare FastAPI app (one
``GET /hello`` route answering a small JSON object, served with the same server options as
``danchuang serve``), then in each round sends N requests at concurrency C to each in turn —
``GET /api/v1/enterprises/me`` with an API key, then ``GET /hello`` — and reports the server
CPU per request (from /proc) and the ratio between the two, taken in the same round. The
targets (issue 15): at most 0.8 ms (must) and 0.5 ms (goal) of server CPU per GET on the
2-core development machine.

``--py-spy FILE`` samples the danchuang server with py-spy during the last round and writes
the collapsed stacks to FILE (``py-spy record --format raw``); ``benchmarks/ingest.py`` uses
the same functions for the floor it reports beside its submissions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.ingest import (  # noqa: E402
    ADMIN_KEY,
    LoadResult,
    Server,
    _free_port,
    _headers,
    _measured,
    _Tally,
    register,
    spawned_server,
)
from benchmarks.ingest_server import stop  # noqa: E402

FLOOR_MUST_MS = 0.8  # server CPU per authenticated GET (issue 15)
FLOOR_GOAL_MS = 0.5
FLOOR_PATH = "/api/v1/enterprises/me"
BARE_PATH = "/hello"


def bare_app() -> object:
    """A FastAPI app with one route and nothing else: the framework's own cost."""
    from fastapi import FastAPI  # noqa: PLC0415

    app = FastAPI()

    @app.get(BARE_PATH)
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


@contextmanager
def bare_server(workdir: Path) -> Iterator[Server]:
    """``bare_app`` on a free loopback port, under the same server as ``danchuang serve``."""
    port = _free_port()
    script = (
        "import sys; sys.path.append(sys.argv[1]); import app.cli.serve as serve;"
        "from benchmarks.http_floor import bare_app; run = getattr(serve, 'run_server', None);"
        "import uvicorn; options = dict(host='127.0.0.1', port=int(sys.argv[2]));"
        "run(bare_app(), **options) if run else uvicorn.run("
        "bare_app(), loop='asyncio', http='h11', log_level='warning', **options)"
    )
    log = (workdir / "bare.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(REPO), str(port)],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, f"{base}{BARE_PATH}", workdir / "bare.log")
        yield Server(base, process.pid)
    finally:
        stop(process)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start; see {log}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)


async def drive_get(
    server: Server, path: str, keys: list[str], requests: int, concurrency: int
) -> LoadResult:
    """``requests`` GETs of ``path``, at most ``concurrency`` in flight, each worker with one
    of ``keys`` (none: no Authorization header)."""
    tally = _Tally()
    left = [requests]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, timeout=60, limits=limits) as client:

        async def worker(n: int) -> None:
            headers = _headers(keys[n % len(keys)]) if keys else {}
            while left[0] > 0:
                left[0] -= 1
                await tally.timed(client.get(path, headers=headers), 200)

        workers = [worker(n) for n in range(concurrency)]
        return await _measured(server, tally, requests, 0, workers)


def cpu_ms(result: LoadResult) -> float | None:
    """Server CPU milliseconds per request, when the server's CPU was read."""
    if result.server_cpu_s is None or not result.requests:
        return None
    return result.server_cpu_s / result.requests * 1000


def verdict(ms: float | None) -> str:
    if ms is None:
        return "n/a"
    if ms <= FLOOR_GOAL_MS:
        return f"goal met (<= {FLOOR_GOAL_MS} ms)"
    if ms <= FLOOR_MUST_MS:
        return f"must met (<= {FLOOR_MUST_MS} ms), goal {FLOOR_GOAL_MS} ms missed"
    return f"must missed (> {FLOOR_MUST_MS} ms)"


def floor_line(floor: LoadResult, bare: LoadResult | None) -> str:
    """One line: the floor's rate, latency and server CPU per GET, its target and its ratio
    to the bare FastAPI route measured in the same run."""
    ms = cpu_ms(floor)
    shown = f"{ms:.2f} ms" if ms is not None else "n/a"
    line = (
        f"HTTP floor (GET {FLOOR_PATH}, {floor.requests} requests): "
        f"{floor.requests_per_s:7.1f} req/s  p50 {floor.percentile(0.5):5.1f} ms  "
        f"p99 {floor.percentile(0.99):6.1f} ms  server CPU {shown} per GET: {verdict(ms)}"
    )
    bare_ms = cpu_ms(bare) if bare is not None else None
    if ms is not None and bare_ms:
        line += f"; bare FastAPI route {bare_ms:.2f} ms, ratio {ms / bare_ms:.2f}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="GETs per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (16)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--engine", action="store_true", help="run the clearance engine too")
    parser.add_argument("--postgres", help="serve from this PostgreSQL database instead")
    parser.add_argument(
        "--serve-option", action="append", default=[], help="passed to danchuang serve"
    )
    parser.add_argument("--py-spy", type=Path, help="py-spy's raw stacks of the last round")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="danchuang-floor-") as folder:
        workdir = Path(folder)
        url = args.postgres or f"sqlite:///{workdir / 'floor.db'}"
        with (
            spawned_server(
                url, workdir, engine=args.engine, serve_options=tuple(args.serve_option)
            ) as server,
            bare_server(workdir) as bare,
        ):
            keys = asyncio.run(register(server.base, ADMIN_KEY, {"BENCHFLOOR1": ["ebc"]}))
            key = list(keys.values())
            asyncio.run(drive_get(server, FLOOR_PATH, key, 300, args.concurrency))  # warm up
            asyncio.run(drive_get(bare, BARE_PATH, [], 300, args.concurrency))
            for round_ in range(1, args.rounds + 1):
                spy = _py_spy(server.pid, args.py_spy) if round_ == args.rounds else None
                floor = asyncio.run(
                    drive_get(server, FLOOR_PATH, key, args.requests, args.concurrency)
                )
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes its file and exits
                    spy.wait(30)
                plain = asyncio.run(drive_get(bare, BARE_PATH, [], args.requests, args.concurrency))
                print(f"round {round_}: {floor_line(floor, plain)}")
                failures = sum(n for n, _ in floor.failures.values())
                if failures:
                    print(f"  {failures} failures: {floor.failures}")


def _py_spy(pid: int | None, out: Path | None) -> subprocess.Popen[bytes] | None:
    if out is None or pid is None:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
    process = subprocess.Popen([*command, "--rate", "250", "--nonblocking"])
    time.sleep(1.0)  # py-spy attaches
    return process


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
