"""Where a long-running server's memory goes: the soak's load (bench.load.soak_load) against one
server run under tracemalloc (bench.load.traced_server), then the allocation sites whose live memory
grew most between the first snapshot after warm-up and the last.

python -m bench.load.memory_trace [--minutes 60] [--every-s 300] [--warmup-min 10] [--pace 3]

Prints, per snapshot, the RSS and the traced Python heap (if RSS grows and the heap does not, the
growth is native: a C library or the allocator), then the top growing sites grouped by traceback.
"""

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import httpx

from bench.load.soak_load import KB, Tally, asker, deleter, searcher, uploader

_SNAP = re.compile(r"(\d+)-([\d.]+)min-(\d+)MB\.snap$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data: Path, snaps: Path, every_s: float, model: str) -> tuple:
    traced = ["--snapshots", str(snaps), "--every-s", str(every_s)]
    return start_traced(data, model, [sys.executable, "-m", "bench.load.traced_server"], traced)


def start_traced(data: Path, model: str, runner: list[str], extra: list[str]) -> tuple:
    """(process, base URL) of bench.load.traced_server run by ``runner`` (python, or memray run)
    on ``data`` with the soak's settings; ``extra``: its own arguments."""
    port = free_port()
    env = {
        "KB_DATA_DIR": str(data),
        "KB_SEED_DIR": str(data / "seed"),
        "KB_LOCAL_MODEL": model,
        "KB_LLM_MAX_TOKENS": "48",
    }
    (data / "seed").mkdir(parents=True, exist_ok=True)
    log = open(data / "server.log", "ab")  # noqa: SIM115  closed with the process
    proc = subprocess.Popen(
        [*runner, "--port", str(port), *extra],
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise TimeoutError("the traced server did not start")


def run_load(base: str, minutes: float, pace: float, seed: int) -> Tally:
    httpx.post(base + "/kbs", json={"name": KB}, timeout=60)
    tally, stop, rng = Tally(), threading.Event(), random.Random(seed)
    tally.pace = pace
    workers = [
        threading.Thread(target=fn, args=(tally, base, stop, random.Random(rng.random())))
        for fn in (uploader, searcher, searcher, asker, deleter)
    ]
    for w in workers:
        w.start()
    stop.wait(minutes * 60)
    stop.set()
    for w in workers:
        w.join(300)
    return tally


def snapshots(folder: Path) -> list[tuple[float, float, Path]]:
    found = []
    for path in sorted(folder.glob("*.snap")):
        m = _SNAP.search(path.name)
        if m:
            found.append((float(m.group(2)), float(m.group(3)), path))
    return found


def report(folder: Path, warmup_min: float, top: int) -> None:
    snaps = snapshots(folder)
    print("\n| minute | RSS MB | traced Python heap MB |\n|---|---|---|")
    heaps = {}
    for minute, rss, path in snaps:
        snap = tracemalloc.Snapshot.load(str(path))
        heaps[path] = snap
        traced = sum(stat.size for stat in snap.statistics("filename")) / 2**20
        print(f"| {minute:.0f} | {rss:.0f} | {traced:.1f} |")
    after = [s for s in snaps if s[0] >= warmup_min]
    if len(after) < 2:
        print("not enough snapshots after warm-up to compare")
        return
    (m0, r0, first), (m1, r1, last) = after[0], after[-1]
    hours = (m1 - m0) / 60
    growth = r1 - r0
    print(f"\nminute {m0:.0f} to {m1:.0f}: RSS {growth:+.0f} MB ({growth / hours:+.0f} MB/h)")
    diff = heaps[last].compare_to(heaps[first], "traceback")
    print(f"\ntop {top} growing allocation sites (size diff, count diff, innermost frames last):")
    for stat in diff[:top]:
        print(f"\n{stat.size_diff / 2**20:+.2f} MB  {stat.count_diff:+d} blocks")
        for line in stat.traceback.format(limit=6):
            print("   ", line)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--every-s", type=float, default=300)
    ap.add_argument("--warmup-min", type=float, default=10)
    ap.add_argument("--pace", type=float, default=3.0)
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--report-only", type=Path, default=None, help="a snapshot folder to read")
    args = ap.parse_args()
    if args.report_only:
        report(args.report_only, args.warmup_min, args.top)
        return 0
    data = Path(tempfile.mkdtemp(prefix="kb-memtrace-"))
    snaps = data / "snapshots"
    proc, base = start_server(data, snaps, args.every_s, args.model)
    print(f"data dir {data}; traced server up; load for {args.minutes:.0f} min", flush=True)
    try:
        tally = run_load(base, args.minutes, args.pace, args.seed)
        time.sleep(args.every_s + 5)  # one more snapshot after the load stops
    finally:
        proc.terminate()
        proc.wait(60)
    print({route: dict(codes) for route, codes in tally.codes.items()})
    report(snaps, args.warmup_min, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
