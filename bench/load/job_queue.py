"""Which queue engine carries ingestion jobs: PostgreSQL (the job table, claimed with SKIP LOCKED
and a lease: what `kb worker` runs) against Redis + RQ, measured on what a 202 promises.

python -m bench.load.job_queue   # from the repo root; needs PostgreSQL (apt: postgresql); the RQ
# rows need redis-server (apt) and rq (pip)

For each engine: how long accepting a job takes (recorded durably), how long an idle worker takes to
start it, how many of 20 jobs accepted just before the queue server is killed with SIGKILL are still
there after its restart, and whether (and when) a job whose worker was killed mid-job runs again.
"""

import argparse
import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.operations.job_store_pg import PostgresJobStore
from bench.results import command, record
from tests.servers import PostgresServer, free_port

REPO = Path(__file__).resolve().parents[2]

TASK_S = 4.0  # a job's length in the kill test (the RQ job is time.sleep: nothing to import)


def ms(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:.1f} /"
        f" {sorted(values)[int(len(values) * 0.95) - 1] * 1000:.1f}"
    )


# --- PostgreSQL: the product's own store and worker loop
# --------------------------------------------------
def pg_worker(url: str, lease_s: float, seconds: float) -> None:
    """A worker loop as `kb worker` runs it, with a sleep for ingestion."""
    from app.operations.jobs import JobManager
    from ingest import FileOutcome

    def ingest(kb, files, progress, should_stop):
        for i, (_path, source) in enumerate(files):
            progress.file_started(source, i, len(files))
            time.sleep(seconds)
            progress.file_done(FileOutcome(source, "indexed", doc_id=source))

    JobManager(
        ingest,
        PostgresJobStore(url),
        Path("/nonexistent"),
        run_here=True,
        lease_s=lease_s,
        poll_s=0.5,
    ).run_forever()


def start_pg_worker(url: str, lease_s: float, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.load.job_queue",
            "--pg-worker",
            url,
            str(lease_s),
            str(seconds),
        ],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bench_postgres() -> dict:
    out = {}
    with PostgresServer() as pg:
        store = PostgresJobStore(pg.url)
        files = [(Path(f"/x/{i}.txt"), f"{i}.txt") for i in range(3)]
        accept = []
        for _ in range(50):
            t0 = time.perf_counter()
            store.create(os.urandom(8).hex(), "kb", files, time.time())
            accept.append(time.perf_counter() - t0)
        out["accept"] = ms(accept)
        with store._tx() as run:  # the timing jobs are not to be run
            run("UPDATE jobs SET status = 'done'")
        worker = start_pg_worker(pg.url, 6.0, 0.0)
        time.sleep(3)
        pickup = []
        for _ in range(20):
            job_id, t0 = os.urandom(8).hex(), time.time()
            store.create(job_id, "kb", files[:1], t0)
            while (rec := store.get(job_id))["status"] == "running":
                time.sleep(0.01)
            pickup.append(rec["files"][0]["started"] - t0)
        out["pickup"] = ms(pickup)
        os.killpg(worker.pid, signal.SIGKILL)
        out["survive"] = pg_survival(pg, store, files)
        out["redelivery"] = pg_redelivery(pg.url, PostgresJobStore(pg.url))
    return out


def pg_survival(pg: PostgresServer, store, files) -> str:
    ids = [os.urandom(8).hex() for _ in range(20)]
    for job_id in ids:
        store.create(job_id, "kb", files, time.time())
    pg.kill()
    pg.start()
    fresh = PostgresJobStore(pg.url)
    left = sum(fresh.get(i) is not None for i in ids)
    with fresh._tx() as run:  # not to be run by the next test's worker
        run("UPDATE jobs SET status = 'done'")
    return f"{left}/20"


def pg_redelivery(url: str, store) -> str:
    job_id = os.urandom(8).hex()
    store.create(job_id, "kb", [(Path("/x/a"), "a")], time.time())
    first = start_pg_worker(url, 6.0, TASK_S)
    while store.get(job_id)["files"][0]["started"] is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)
    killed = time.time()
    second = start_pg_worker(url, 6.0, TASK_S)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if store.get(job_id)["status"] == "done":
                return (
                    f"yes, done {time.time() - killed:.1f} s after the kill (lease 6 s +"
                    f" {TASK_S:.0f} s job)"
                )
            time.sleep(0.1)
        return "no (not within 120 s)"
    finally:
        os.killpg(second.pid, signal.SIGKILL)


# --- Redis + RQ -----------------------------------------------------------------------------------
# -----
class RedisServer:
    def __init__(self, folder: Path, *config: str):
        self.folder, self.config, self.port, self.proc = folder, list(config), free_port(), None

    def start(self):
        from redis import Redis

        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--dir",
                str(self.folder),
                "--bind",
                "127.0.0.1",
                *self.config,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(100):
            try:
                Redis(port=self.port).ping()
                return self
            except Exception:  # noqa: BLE001  not up yet
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def start_rq_worker(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "rq"),
            "worker",
            "--url",
            f"redis://127.0.0.1:{port}",
            "-q",
        ],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bench_rq(config_name: str, *config: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="kb-redis-"))
    server = RedisServer(folder, *config).start()
    try:
        return rq_rows(server)
    finally:
        if server.proc.poll() is None:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)


def rq_rows(server: "RedisServer") -> dict:
    from redis import Redis
    from rq import Queue, Retry

    queue = Queue(connection=Redis(port=server.port))
    accept = []
    for _ in range(50):
        t0 = time.perf_counter()
        queue.enqueue("time.sleep", 0.0, retry=Retry(max=3))
        accept.append(time.perf_counter() - t0)
    queue.empty()
    worker = start_rq_worker(server.port)
    try:
        time.sleep(3)
        pickup = []
        for _ in range(20):
            t0 = time.time()
            job = queue.enqueue("time.sleep", 0.0, retry=Retry(max=3))
            while job.get_status(refresh=True) not in ("finished", "failed"):
                time.sleep(0.01)
            job.refresh()
            pickup.append(job.started_at.timestamp() - t0)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
    out = {"accept": ms(accept), "pickup": ms(pickup)}
    ids = [queue.enqueue("time.sleep", 0.0).id for _ in range(20)]
    server.kill()
    server.start()
    queue = Queue(connection=Redis(port=server.port))
    out["survive"] = f"{sum(1 for i in ids if i in queue.job_ids)}/20"
    out["redelivery"] = rq_redelivery(queue, server.port)
    return out


def rq_redelivery(queue, port: int) -> str:
    from rq import Retry

    queue.empty()
    job = queue.enqueue("time.sleep", TASK_S, retry=Retry(max=3), job_timeout=30)
    first = start_rq_worker(port)
    try:
        while job.get_status(refresh=True) != "started":
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
    killed = time.time()
    second = start_rq_worker(port)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            status = job.get_status(refresh=True)
            if status == "finished":
                return f"yes, done {time.time() - killed:.1f} s after the kill"
            time.sleep(0.2)
        return f"no: still '{status}' 120 s after the kill"
    finally:
        os.killpg(second.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pg_worker:
        return pg_worker(args.pg_worker[0], float(args.pg_worker[1]), float(args.pg_worker[2]))
    rows = [("PostgreSQL 15, job table + SKIP LOCKED + lease (kb worker)", bench_postgres())]
    if shutil.which("redis-server") and importlib.util.find_spec("rq"):
        rows.append(("Redis 7 + RQ, default config (RDB snapshots)", bench_rq("default")))
        rows.append(
            (
                "Redis 7 + RQ, appendonly + appendfsync always",
                bench_rq("aof", "--appendonly", "yes", "--appendfsync", "always"),
            )
        )
    else:
        print("(no Redis rows: they need redis-server (apt) and rq (pip))")
    print(
        "| engine | accept a job, ms p50 / p95 | idle worker starts it, ms p50 / p95 | accepted"
        " jobs left after the queue server's SIGKILL | job of a SIGKILLed worker runs again |"
    )
    print("|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['accept']} | {r['pickup']} | {r['survive']} | {r['redelivery']} |")
    # the headline: p50s (ms) and the jobs left after the SIGKILL, per engine in the order above
    short = ("PostgreSQL", "Redis+RQ RDB", "Redis+RQ AOF")
    headline = [
        {
            "label": label,
            "accept_ms_p50": float(r["accept"].split(" / ")[0]),
            "pickup_ms_p50": float(r["pickup"].split(" / ")[0]),
            "survived": r["survive"],
        }
        for label, (_, r) in zip(short, rows)
    ]
    record("load.job_queue", headline, command())


if __name__ == "__main__":
    main()
