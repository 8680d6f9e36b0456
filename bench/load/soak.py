"""Soak: a bounded mixed load (uploads, searches, asks, deletes) on a real server over loopback,
with one SIGKILL and restart of the server in the middle. Then every accepted file is accounted for.

python -m bench.load.soak [--seconds 180] [--kill-at 0.5] [--model gemma-3-270m]
python -m bench.load.soak --hours 2 [--sample-s 60]   # one kill per hour, in the middle of each
python -m bench.load.soak --scale   # 2 replicas + 1 `kb worker` over a Chroma server and a
                                    # PostgreSQL queue; replica A and the worker are killed and
                                    # restarted

The server's resident memory, open files, threads and temporary files are sampled every
--sample-s seconds (bench/load/soak_sampling.py) and their growth per hour printed: a leak shows as
a positive slope.

With --scale, uploads go through replica A, searches through both, asks, deletes and the accounting
through B.

Prints requests and status codes per route, latency, and the accounting: files accepted (202) vs
files whose job ended indexed / duplicate / failed-with-a-reason / cancelled, files lost, partial
documents, and 5xx answers other than 503 (none allowed; connection errors during the restart window
are counted apart). Targets: 0 lost, 0 partial, 0 unexpected 5xx.
"""

import argparse
import contextlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.load.soak_accounting import account
from bench.load.soak_load import KB, Tally, asker, deleter, searcher, uploader
from bench.load.soak_sampling import Sampler, slope_per_hour
from bench.load.soak_sampling import report as report_samples
from bench.results import command, record


class ServerProcess:
    """`kb serve --no-ui` in its own process group on a fixed port, so it can be killed and started
    again."""

    def __init__(self, data: Path, model: str, env: dict | None = None, command: str = "serve"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (data / "seed").mkdir(parents=True, exist_ok=True)
        self.temp_dir = data / "tmp"  # its own TMPDIR: the soak counts the files left there
        self.log = data / f"{command}.log"
        self.temp_dir.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "KB_DATA_DIR": str(data),
            "KB_SEED_DIR": str(data / "seed"),
            "KB_LOCAL_MODEL": model,
            "KB_LLM_MAX_TOKENS": "48",
            "TMPDIR": str(self.temp_dir),
            **(env or {}),
        }
        self.base, self.proc, self.command = f"http://127.0.0.1:{self.port}", None, command

    def start(self, timeout_s: float = 180) -> float:
        t0 = time.monotonic()
        kb = Path(sys.executable).parent / "kb"
        args = (
            ["serve", "--no-ui", "--port", str(self.port)]
            if self.command == "serve"
            else [self.command]
        )
        # every life of the server logs into one file, so an unexpected 5xx can be traced after
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(kb), *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if self.command != "serve":
            return 0.0
        while time.monotonic() - t0 < timeout_s:
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                time.sleep(0.3)
        raise TimeoutError("the server did not start")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--hours", type=float, default=None, help="run this long (overrides --seconds)")
    ap.add_argument("--sample-s", type=float, default=None, help="resource sample interval")
    ap.add_argument(
        "--pace",
        type=float,
        default=None,
        help="pauses between requests x this (default 1; 3 for --hours, leaving CPU to others)",
    )
    ap.add_argument(
        "--kill-at",
        type=float,
        default=0.5,
        help="fraction of the run at which the server is killed",
    )
    ap.add_argument(
        "--model",
        default="gemma-3-270m",
        help="local model answering /ask (small keeps the CPU free)",
    )
    ap.add_argument("--data", default=None, help="data dir (default: a fresh temporary one)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--scale",
        action="store_true",
        help="two replicas and a worker over Chroma and PostgreSQL servers",
    )
    args = ap.parse_args()
    seconds = args.hours * 3600 if args.hours is not None else args.seconds
    sample_s = args.sample_s or (60.0 if seconds >= 1800 else 10.0)

    data = Path(args.data or tempfile.mkdtemp(prefix="kb-soak-"))
    with contextlib.ExitStack() as cleanup:
        front, back, killed = start_processes(args, data, cleanup)
        print(f"data dir {data}; started; running {seconds / 60:.0f} min", flush=True)
        started = time.monotonic()
        httpx.post(front.base + "/kbs", json={"name": KB}, timeout=60)
        tally, stop, rng = Tally(), threading.Event(), random.Random(args.seed)
        tally.pace = args.pace or (3.0 if args.hours is not None else 1.0)
        routes = [
            (uploader, front),
            (searcher, front),
            (searcher, back),
            (asker, back),
            (deleter, back),
        ]
        workers = [
            threading.Thread(
                target=fn, args=(tally, proc.base, stop, random.Random(rng.random())), daemon=True
            )
            for fn, proc in routes
        ]
        sampler = Sampler(lambda: back.proc.pid if back.proc else None, back.temp_dir, sample_s)
        sampling = threading.Thread(target=sampler.run, args=(stop,), daemon=True)
        for w in [*workers, sampling]:
            w.start()
        restarts = []
        for at in kill_times(seconds, args.kill_at, args.hours is not None):
            wait_until(started + at, stop)
            restarts.append(kill_and_restart(back, killed, tally))
        wait_until(started + seconds, stop)
        stop.set()
        for w in workers:
            w.join(300)
        result = account(tally, back.base, timeout_s=600)
    report(tally, result, max(restarts, default=0.0), logged_5xx(data))
    report_samples(sampler.samples, every=max(1, int(600 / sample_s)))
    slope = slope_per_hour(sampler.samples, "rss_mb")
    headline = {
        "rss_mb_per_h": None if slope is None else round(slope, 2),
        "files_lost": len(result["lost"]),
        "partial": len(result["partial"]),
        "unexpected_5xx": len(tally.unexpected),
    }
    record("load.soak-scale" if args.scale else "load.soak", [headline], command())
    return (
        0
        if not (result["lost"] or result["partial"] or tally.unexpected or result["absent"])
        else 1
    )


def kill_times(seconds: float, kill_at: float, hourly: bool) -> list[float]:
    """Seconds into the run at which the server is killed: the middle of every hour of a run
    given in hours, else once at ``kill_at`` of it."""
    if not hourly or seconds < 3600:
        return [seconds * kill_at]
    return [hour * 3600 + 1800 for hour in range(int(seconds // 3600))]


def wait_until(deadline: float, stop: threading.Event) -> None:
    stop.wait(max(0.0, deadline - time.monotonic()))


def kill_and_restart(back: "ServerProcess", killed: list, tally: "Tally") -> float:
    """SIGKILL, start again; seconds until it answers."""
    jobs = httpx.get(back.base + "/jobs", params={"limit": 500}, timeout=60).json()
    running = [j for j in jobs if j["status"] == "running"]
    pending = sum(f["status"] == "pending" for j in running for f in j["files"])
    tally.restarting.set()
    for proc in killed:
        proc.kill()
    killed_at = time.monotonic()
    restart_s = max(proc.start() for proc in killed)
    tally.restarting.clear()
    print(
        f"killed {', '.join(p.command for p in killed)} with SIGKILL while {len(running)} jobs"
        f" ran ({pending} files not yet done); restarted and answering"
        f" {time.monotonic() - killed_at:.1f} s later",
        flush=True,
    )
    return restart_s


def start_processes(args, data: Path, cleanup: contextlib.ExitStack):
    """(front door, back door, processes to kill mid-run), all started; stopped when ``cleanup``
    closes."""
    if not args.scale:
        server = ServerProcess(data, args.model)
        server.start()
        cleanup.callback(server.kill)
        return server, server, [server]
    from tests.servers import (  # needs `python -m bench.load.soak` from the repo root
        ChromaServer,
        PostgresServer,
    )

    chroma = cleanup.enter_context(ChromaServer(data / "chroma-server"))
    queue = cleanup.enter_context(PostgresServer())
    env = {
        "KB_CHROMA_URL": chroma.url,
        "KB_QUEUE_URL": queue.url,
        "KB_SHARED_DIR": str(data / "shared"),
        "KB_JOB_LEASE_S": "15",
        "KB_PRELOAD_MODEL": "false",
    }
    a, b = (ServerProcess(data / name, args.model, env) for name in ("a", "b"))
    worker = ServerProcess(data / "worker", args.model, env, command="worker")
    for proc in (a, b, worker):
        proc.start()
        cleanup.callback(proc.kill)
    return a, b, [a, worker]


_5XX = re.compile(r'HTTP/1\.1" 5\d\d ')


def logged_5xx(data: Path) -> list[str]:
    """5xx answers in the servers' access logs, whatever asked: the load's clients, and also the
    readiness polls after a restart, which the tally does not count."""
    lines = []
    for log in sorted(data.rglob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        lines += [line.strip() for line in text.splitlines() if _5XX.search(line)]
    return lines


def report(tally: Tally, result: dict, restart_s: float, logged: list[str]) -> None:
    print("\n| route | requests | status codes | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for route, codes in sorted(tally.codes.items()):
        lat = sorted(tally.latency.get(route, []))
        p50 = f"{statistics.median(lat):.0f}" if lat else "–"
        p95 = f"{lat[int(0.95 * (len(lat) - 1))]:.0f}" if lat else "–"
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=lambda kv: str(kv[0])))
        print(f"| {route} | {sum(codes.values())} | {shown} | {p50} | {p95} |")
    accepted = sum(len(n) for n in tally.accepted.values())
    rows = [
        ("jobs accepted (202)", len(tally.accepted)),
        ("files accepted", accepted),
        ("file outcomes", dict(result["outcomes"])),
        ("files lost", len(result["lost"])),
        ("files still being indexed when the accounting's time ran out", len(result["unfinished"])),
        ("indexed, not deleted, yet not in the knowledge base", len(result["absent"])),
        ("partial documents", len(result["partial"])),
        ("documents at the end", result["documents"]),
        ("deleted during the run", len(tally.deleted)),
        ("unexpected 5xx", len(tally.unexpected)),
        (
            "5xx in the servers' logs (readiness polls included; 503 while starting too)",
            len(logged),
        ),
        ("restart to first answer (s)", f"{restart_s:.1f}"),
    ]
    print("\n| accounting | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    shown = result["lost"][:10] + result["unfinished"][:3] + result["absent"][:10]
    for line in shown + tally.unexpected[:10] + logged[:10]:
        print("  ", line)
    if tally.unexpected:
        print("   (the servers' logs, with the traces, are *.log in the data dir)")


if __name__ == "__main__":
    sys.exit(main())
