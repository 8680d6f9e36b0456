"""Soak: a bounded mixed load (uploads, searches, asks, deletes) on a real server over loopback,
with one SIGKILL and restart of the server in the middle (with --hours, one in the middle of each
hour). Then every accepted file is accounted for, and the server's resources are shown over time.

    python -m bench.soak [--seconds 180] [--kill-at 0.5] [--model gemma-3-270m]
    python -m bench.soak --hours 2 [--sample-every 60] [--ask-every 20]   # hours: leaks show
    python -m bench.soak --scale  # 2 replicas + 1 `kb worker` over a Chroma server and a
                                  # PostgreSQL queue; replica A and the worker are killed

Every --sample-every seconds the server process's RSS, open files (/proc/PID/fd), threads, its
children's RSS and the files in its temporary dir are sampled; a table of the samples and each
measure's least-squares slope per hour are printed (bench/soak_sampling.py). A leak shows as growth.

With --scale, uploads go through replica A, searches through both, asks, deletes and the accounting
through B.

Prints requests and status codes per route, latency, and the accounting: files accepted (202) vs
files whose job ended indexed / duplicate / failed-with-a-reason / cancelled, files lost, partial
documents, and 5xx answers other than 503 (none allowed; connection errors during the restart window
are counted apart). Targets: 0 lost, 0 partial, 0 unexpected 5xx.
"""

import argparse
import collections
import contextlib
import os
import random
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

from bench.soak_sampling import Sampler, slopes_table, table

KB = "soak"
TOPICS = ["年假", "报销", "差旅", "培训", "设备", "门禁", "加班", "体检"]


class ServerProcess:
    """`kb serve --no-ui` in its own process group on a fixed port, so it can be killed and started
    again."""

    def __init__(self, data: Path, model: str, env: dict | None = None, command: str = "serve"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        (data / "seed").mkdir(parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "KB_DATA_DIR": str(data),
            "KB_SEED_DIR": str(data / "seed"),
            "KB_LOCAL_MODEL": model,
            "KB_LLM_MAX_TOKENS": "48",
            "TMPDIR": str(data / "tmp"),  # its own: the temporary files it leaves are counted
            **(env or {}),
        }
        (data / "tmp").mkdir(parents=True, exist_ok=True)
        self.base, self.proc, self.command = f"http://127.0.0.1:{self.port}", None, command
        self.tmp_dir = data / "tmp"

    def start(self, timeout_s: float = 180) -> float:
        t0 = time.monotonic()
        kb = Path(sys.executable).parent / "kb"
        args = (
            ["serve", "--no-ui", "--port", str(self.port)]
            if self.command == "serve"
            else [self.command]
        )
        self.proc = subprocess.Popen(
            [str(kb), *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
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


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.unexpected: list[str] = []
        self.accepted: dict[str, list[str]] = {}  # job id -> file names
        self.deleted: set[str] = set()
        self.restarting = threading.Event()

    def record(
        self, route: str, reply: httpx.Response | None, seconds: float, error: str = ""
    ) -> None:
        with self.lock:
            if reply is None:
                self.codes[route]["down" if self.restarting.is_set() else f"error {error}"] += 1
                return
            self.codes[route][reply.status_code] += 1
            self.latency[route].append(seconds * 1000)
            if reply.status_code >= 500 and not (
                reply.status_code == 503 and self.restarting.is_set()
            ):
                self.unexpected.append(f"{route} {reply.status_code} {reply.text[:120]}")


def call(
    tally: Tally, client: httpx.Client, route: str, method: str, url: str, **kw
) -> httpx.Response | None:
    t0 = time.monotonic()
    try:
        reply = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        tally.record(route, None, 0, type(exc).__name__)
        return None
    tally.record(route, reply, time.monotonic() - t0)
    return reply


def uploader(tally: Tally, base: str, stop: threading.Event, rng: random.Random) -> None:
    n = 0
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            files = []
            for _ in range(rng.randint(1, 3)):
                n += 1
                topic = rng.choice(TOPICS)
                text = "\n\n".join(
                    f"第{n}号{topic}制度第{i}条：员工应当按照公司规定办理{topic}相关事务，编号{n}-{i}。"
                    for i in range(rng.randint(5, 30))
                )
                files.append(("files", (f"soak-{n:04d}.txt", text.encode())))
            reply = call(
                tally,
                client,
                "POST /kbs/{kb}/documents",
                "POST",
                f"/kbs/{KB}/documents",
                files=files,
            )
            if reply is not None and reply.status_code == 202:
                with tally.lock:
                    tally.accepted[reply.json()["job_id"]] = [f[1][0] for f in files]
            stop.wait(rng.uniform(1.0, 3.0))


def searcher(tally: Tally, base: str, stop: threading.Event, rng: random.Random) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            query = f"{rng.choice(TOPICS)}的规定是什么"
            call(
                tally,
                client,
                "POST /search",
                "POST",
                "/search",
                json={"kb": KB, "query": query, "k": 5},
            )
            stop.wait(rng.uniform(0.1, 0.5))


def asker(
    tally: Tally, base: str, stop: threading.Event, rng: random.Random, every_s: float = 2.5
) -> None:
    """An ask about every ``every_s`` seconds (generation is what takes the CPU)."""
    with httpx.Client(base_url=base, timeout=300) as client:
        while not stop.is_set():
            question = f"{rng.choice(TOPICS)}有哪些规定？"
            call(tally, client, "POST /ask", "POST", "/ask", json={"kb": KB, "question": question})
            stop.wait(rng.uniform(0.4 * every_s, 1.6 * every_s))


def deleter(
    tally: Tally, base: str, stop: threading.Event, rng: random.Random, max_docs: int = 400
) -> None:
    """One random document every 5-10 s; more while there are over ``max_docs`` (an hours-long
    soak then measures a knowledge base of steady size, not one that grows all along)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.wait(rng.uniform(5.0, 10.0)):
            reply = call(tally, client, "GET /kbs/{kb}/documents", "GET", f"/kbs/{KB}/documents")
            indexed = (
                [d for d in reply.json() if d["status"] == "indexed"]
                if reply is not None and reply.is_success
                else []
            )
            over = max(1, min(50, len(indexed) - max_docs))
            for doc in rng.sample(indexed, min(over, len(indexed))):
                gone = call(
                    tally,
                    client,
                    "DELETE /kbs/{kb}/documents/{id}",
                    "DELETE",
                    f"/kbs/{KB}/documents/{doc['doc_id']}",
                )
                if gone is not None and gone.status_code == 204:
                    with tally.lock:
                        tally.deleted.add(doc["source"])


def account(tally: Tally, base: str, timeout_s: float) -> dict:
    """Wait for every accepted job to end, then check each accepted file and the documents."""
    outcomes, lost, indexed_names = collections.Counter(), [], set()
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base, timeout=60) as client:
        for job_id, names in tally.accepted.items():
            job = None
            while time.monotonic() < deadline:
                reply = client.get(f"/jobs/{job_id}")
                job = reply.json() if reply.status_code == 200 else None
                if job is None or job["status"] != "running":
                    break
                time.sleep(0.5)
            files = {f["source"]: f for f in (job or {}).get("files", [])}
            for name in names:
                f = files.get(name)
                ok = f is not None and (
                    f["status"] in ("indexed", "duplicate", "cancelled")
                    or (f["status"] == "failed" and f["error"])
                )
                outcomes[f["status"] if f else "missing"] += 1
                if f is not None and f["status"] == "indexed":
                    indexed_names.add(name)
                if not ok:
                    lost.append(f"{job_id[:8]}/{name}: {f['status'] if f else 'no such job'}")
        documents = client.get(f"/kbs/{KB}/documents").json()
    partial = [d for d in documents if d["status"] not in ("indexed", "failed")]
    indexed_sources = {d["source"] for d in documents if d["status"] == "indexed"}
    absent = sorted(indexed_names - indexed_sources - tally.deleted)  # said indexed, yet not there
    return {
        "outcomes": outcomes,
        "lost": lost,
        "partial": partial,
        "absent": absent,
        "documents": len(documents),
    }


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--hours", type=float, default=None, help="run this long (overrides --seconds)")
    ap.add_argument(
        "--kill-at",
        type=float,
        default=0.5,
        help="runs under an hour: fraction of the run at which the server is killed",
    )
    ap.add_argument(
        "--sample-every", type=float, default=60, help="seconds between resource samples"
    )
    ap.add_argument("--ask-every", type=float, default=10, help="mean seconds between asks")
    ap.add_argument(
        "--max-docs", type=int, default=400, help="documents kept; the deleter trims above it"
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
    return ap.parse_args()


def kill_times(duration_s: float, kill_at: float) -> list[float]:
    """One kill in the middle of each full hour; a shorter run: one, at ``kill_at``."""
    if duration_s >= 3600:
        return [(h + 0.5) * 3600 for h in range(int(duration_s // 3600))]
    return [duration_s * kill_at]


def main() -> int:
    args = parse_args()
    duration = args.hours * 3600 if args.hours else args.seconds
    data = Path(args.data or tempfile.mkdtemp(prefix="kb-soak-"))
    with contextlib.ExitStack() as cleanup:
        front, back, killed = start_processes(args, data, cleanup)
        print(f"data dir {data}; started; running {duration / 60:.0f} min", flush=True)
        began = time.monotonic()
        sampler = Sampler(lambda: front.proc.pid, front.tmp_dir, args.sample_every)
        sampler.start()
        httpx.post(front.base + "/kbs", json={"name": KB}, timeout=60)
        tally, stop, rng = Tally(), threading.Event(), random.Random(args.seed)
        routes = [
            (uploader, front, ()),
            (searcher, front, ()),
            (searcher, back, ()),
            (asker, back, (args.ask_every,)),
            (deleter, back, (args.max_docs,)),
        ]
        workers = [
            threading.Thread(
                target=fn,
                args=(tally, proc.base, stop, random.Random(rng.random()), *extra),
                daemon=True,
            )
            for fn, proc, extra in routes
        ]
        for w in workers:
            w.start()
        restarts = []
        for at in kill_times(duration, args.kill_at):
            time.sleep(max(0.0, at - (time.monotonic() - began)))
            restarts.append(kill_and_restart(tally, back, killed))
        time.sleep(max(0.0, duration - (time.monotonic() - began)))
        stop.set()
        for w in workers:
            w.join(300)
        result = account(tally, back.base, timeout_s=600)
        sampler.stop()
    report(tally, result, max(restarts))
    warmup = min(300.0, 0.1 * duration)
    print(f"\nresources of the server process (every {args.sample_every:.0f} s):\n")
    print(table(sampler.samples))
    print("\n" + slopes_table(sampler.samples, warmup))
    return (
        0
        if not (result["lost"] or result["partial"] or tally.unexpected or result["absent"])
        else 1
    )


def kill_and_restart(tally: Tally, back: ServerProcess, killed: list[ServerProcess]) -> float:
    """SIGKILL mid-run and start again; seconds until it answered."""
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
    from tests.servers import (  # needs `python -m bench.soak` from the repo root
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


def report(tally: Tally, result: dict, restart_s: float) -> None:
    print("\n| route | requests | status codes | p50 ms | p95 ms |\n|---|---|---|---|---|")
    for route, codes in sorted(tally.codes.items()):
        lat = sorted(tally.latency.get(route, []))
        p50 = f"{statistics.median(lat):.0f}" if lat else "–"
        p95 = f"{lat[int(0.95 * (len(lat) - 1))]:.0f}" if lat else "–"
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(codes.items(), key=lambda kv: str(kv[0])))
        print(f"| {route} | {sum(codes.values())} | {shown} | {p50} | {p95} |")
    accepted = sum(len(n) for n in tally.accepted.values())
    print(
        f"\n| accounting | value |\n|---|---|\n| jobs accepted (202) | {len(tally.accepted)} |\n|"
        f" files accepted | {accepted} |\n| file outcomes | {dict(result['outcomes'])} |\n| files"
        f" lost | {len(result['lost'])} |\n| indexed, not deleted, yet not in the knowledge base |"
        f" {len(result['absent'])} |\n| partial documents | {len(result['partial'])} |\n| documents"
        f" at the end | {result['documents']} |\n| deleted during the run | {len(tally.deleted)}"
        f" |\n| unexpected 5xx | {len(tally.unexpected)} |\n| restart to first answer (s) |"
        f" {restart_s:.1f} |"
    )
    for line in result["lost"][:10] + result["absent"][:10] + tally.unexpected[:10]:
        print("  ", line)


if __name__ == "__main__":
    sys.exit(main())
