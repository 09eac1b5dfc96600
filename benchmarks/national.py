"""The national day, measured: wall time and peak memory with 1 and 2 workers.

    .venv/bin/python benchmarks/national.py [FILE] [--replications N] [--workers 1,2]

Runs the national file (default ``scenarios/national/china-day.yaml``, its own replications)
once per worker count, each in a fresh child process on local processes
(``simulation.sweep.local_executor``: 1 worker runs in the child itself). For each it prints
the wall time, the parcels, the peak memory of all the run's processes together (the child
and its workers: the sum of their resident sets, sampled every 0.2 s from /proc, Linux only)
and a digest of the national KPIs; then the parallel efficiency T1 / (2 × T2) and whether the
runs agreed exactly. Targets (issue 16): wall ≤ 10 min (goal 4), memory ≤ 8 GB (goal 4),
efficiency ≥ 0.8.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from simulation.national import run_national  # noqa: E402
from simulation.national_file import load_national  # noqa: E402
from simulation.sweep import local_executor  # noqa: E402

DEFAULT = REPO / "scenarios" / "national" / "china-day.yaml"
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    family, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in family]
        family.update(children)
        frontier.extend(children)
    total = 0
    for pid in family:
        try:
            total += int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def child(path: str, workers: int, replications: int | None) -> None:
    """Run the national day once and print the measurement as JSON (the parent's child)."""
    national = load_national(path)
    started = time.perf_counter()
    with local_executor(workers) as pool:
        result = run_national(national, replications=replications, executor=pool)
    wall = time.perf_counter() - started
    kpis = json.dumps(result.national.to_json_dict()["kpis"], sort_keys=True)
    print(
        json.dumps(
            {
                "wall": wall,
                "parcels": result.parcels,
                "replications": len(result.national.replications),
                "sites": len(result.sites),
                "digest": hashlib.sha256(kpis.encode()).hexdigest()[:16],
                "throughput": result.national.kpis["throughput_per_hour"].mean,
            }
        )
    )


def measure(path: str, workers: int, replications: int | None) -> dict[str, float | str]:
    command = [sys.executable, __file__, path, "--child", "--workers", str(workers)]
    if replications is not None:
        command += ["--replications", str(replications)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.2)
    out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"the run with {workers} worker(s) failed ({process.returncode})")
    found: dict[str, float | str] = json.loads(out.strip().splitlines()[-1])
    found["peak_gb"] = peak / 1e9
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    if args.child:
        child(args.file, counts[0], args.replications)
        return 0
    print(f"national day: {args.file}, cpus {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    runs: dict[int, dict[str, float | str]] = {}
    for workers in counts:
        runs[workers] = found = measure(args.file, workers, args.replications)
        print(
            f"  {workers} worker(s): wall {float(found['wall']):7.1f} s, "
            f"peak memory {float(found['peak_gb']):.2f} GB (all processes), "
            f"{float(found['parcels']):,.0f} parcels a day x {found['replications']} "
            f"replications over {found['sites']} sites, KPI digest {found['digest']}",
            flush=True,
        )
    if 1 in runs and 2 in runs:
        efficiency = float(runs[1]["wall"]) / (2 * float(runs[2]["wall"]))
        print(f"parallel efficiency T1 / (2 x T2): {efficiency:.2f} (target >= 0.8)")
        same = runs[1]["digest"] == runs[2]["digest"]
        print(f"1 and 2 workers give identical national KPIs: {'yes' if same else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
