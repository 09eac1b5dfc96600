"""The ingest benchmark's server side: ``danchuang serve`` spawned on a free loopback port, and
the CPU time and resident memory of its process tree, read from Linux's /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_KEY = "ingest-benchmark-admin-key-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    pid: int | None  # None: a server we did not start (--url): its CPU time is not read
    postgres: bool = False  # its database is a PostgreSQL server on this machine
    log: Path | None = None  # its log (JSON lines): None for a server we did not start


def _process_table() -> dict[int, tuple[int, int]]:
    """Every live process: pid -> (parent pid, CPU ticks: utime stime cutime cstime)."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        table[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    return table


def process_tree(pid: int, table: Mapping[int, tuple[int, int]] | None = None) -> set[int]:
    """``pid`` and its live descendants (uvicorn's workers); empty when ``pid`` is gone."""
    table = _process_table() if table is None else table
    if pid not in table:
        return set()
    tree, changed = {pid}, True
    while changed:
        grown = tree | {child for child, (up, _) in table.items() if up in tree}
        changed, tree = grown != tree, grown
    return tree


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a process and its live descendants (uvicorn's workers),
    read from Linux's /proc; None elsewhere."""
    if pid is None or not Path("/proc").is_dir():
        return None
    table = _process_table()
    tree = process_tree(pid, table)
    if not tree:
        return None
    return sum(table[p][1] for p in tree) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU seconds of every ``postgres`` process on this machine so far, the backends that have
    ended counted in the postmaster's (its children's time); 0 when none runs here."""
    ticks = 0
    for pid, (_, cpu) in _process_table().items():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "postgres":
                ticks += cpu
        except OSError:
            continue  # gone meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuReading:
    """CPU seconds so far (not a difference): the server's process tree and, when its database
    runs on this machine, PostgreSQL's; None where not read."""

    server_s: float | None
    postgres_s: float | None

    def since(self, earlier: CpuReading) -> CpuReading:
        """The CPU seconds from ``earlier`` to this reading."""
        return CpuReading(_less(self.server_s, earlier.server_s),
                          _less(self.postgres_s, earlier.postgres_s))  # fmt: skip

    def plus(self, more: CpuReading) -> CpuReading:
        """These CPU seconds and ``more``'s together."""
        return CpuReading(known_sum(self.server_s, more.server_s),
                          known_sum(self.postgres_s, more.postgres_s))  # fmt: skip


def _less(one: float | None, other: float | None) -> float | None:
    return one - other if one is not None and other is not None else None


def known_sum(one: float | None, other: float | None) -> float | None:
    """``one + other``; None when either was not read."""
    return one + other if one is not None and other is not None else None


def read_cpu(server: Server) -> CpuReading:
    """The server's and its PostgreSQL's CPU seconds now."""
    return CpuReading(cpu_seconds(server.pid), postgres_cpu_seconds() if server.postgres else None)


QUIET_SHARE = 0.05  # of a core: an idle server (engine ticking, outbox polled) uses about 1 %


def settle(server: Server, *, timeout_s: float = 60.0, window_s: float = 0.5) -> str:
    """Wait until the server's processes and its PostgreSQL on this machine together use under
    ``QUIET_SHARE`` of a core over ``window_s`` (its worker processes booted, nothing left over
    from an earlier run), at most ``timeout_s``; what was waited, as a phrase."""
    started = before = time.monotonic()
    cpu, busy = read_cpu(server), 0.0
    if cpu.server_s is None:
        return "not watched (the server's CPU is not read here)"
    while time.monotonic() - started < timeout_s:
        time.sleep(window_s)
        now, later = time.monotonic(), read_cpu(server)
        spent = later.since(cpu)
        busy = ((spent.server_s or 0.0) + (spent.postgres_s or 0.0)) / (now - before)
        if busy < QUIET_SHARE:
            return f"quiet after {now - started:.1f} s"
        before, cpu = now, later
    return f"still {busy:.2f} of a core busy after {timeout_s:.0f} s"


def rss_bytes(pid: int | None) -> int | None:
    """Resident memory (VmRSS) of a process and its live descendants, summed, in bytes;
    None when it cannot be read (not Linux, or the process is gone)."""
    if pid is None or not Path("/proc").is_dir():
        return None
    total, found = 0, False
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024  # kB
                found = True
    return total if found else None


@contextmanager
def spawned_server(
    database_url: str,
    workdir: Path,
    *,
    engine: bool = True,
    workers: int = 1,
    threads: int | None = None,
    serve_options: tuple[str, ...] = (),
    settings: Mapping[str, str] | None = None,
) -> Iterator[Server]:
    """``danchuang serve [serve_options]`` on a free loopback port, with ``settings``
    (``DANCHUANG_*`` variables) beside the database and admin key; stopped at the end."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCHUANG_")}
    env |= {"DANCHUANG_DATABASE_URL": database_url, "DANCHUANG_ADMIN_KEY": ADMIN_KEY,
            "DANCHUANG_LOG_LEVEL": "WARNING", "DANCHUANG_LOG_FORMAT": "json"}  # fmt: skip
    env |= dict(settings or {})
    log = (workdir / "server.log").open("ab")
    danchuang = Path(sys.executable).with_name("danchuang")
    options = ["--workers", str(workers)] if workers > 1 else []
    options += ["--threads", str(threads)] if threads else []
    options += serve_options
    process = subprocess.Popen(
        [
            str(danchuang),
            "serve",
            "--port",
            str(port),
            *options,
            *([] if engine else ["--no-engine"]),
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {workdir / 'server.log'}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        postgres = database_url.startswith("postgresql")
        yield Server(base, process.pid, postgres=postgres, log=workdir / "server.log")
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 20 s."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
