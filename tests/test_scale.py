"""Two API replicas and ingestion workers over a real Chroma server and a real PostgreSQL queue,
each a real `kb` process: an upload through A is indexed by a worker, B reports the job and finds
the document by keyword within the bound; a deletion through B is gone on A within it; a worker
killed with SIGKILL mid-job is replaced and the job completes with no file lost and no partial
document."""

import time
from types import SimpleNamespace

import httpx
import pytest

from retrieval.store import KEYWORD_SYNC_S
from tests.servers import ChromaServer, KbProcess, PostgresServer, ServerUnavailable
from tests.test_durable_jobs import make_files, upload, wait_done

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

LEASE_S = 6  # a dead worker's job is taken up again after this
BOUND_S = KEYWORD_SYNC_S + 5  # what the README promises, plus the time of one search


@pytest.fixture()
def cluster(tmp_path):
    """Replicas ``a`` and ``b`` and ``start_worker(name)`` sharing one Chroma server, one queue
    (``postgres``) and one upload volume."""
    try:
        chroma, postgres = ChromaServer(tmp_path / "chroma"), PostgresServer()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    (tmp_path / "seed").mkdir()
    processes: list[KbProcess] = []

    def env(name: str) -> dict[str, str]:
        return {
            "KB_DATA_DIR": str(tmp_path / name),
            "KB_SHARED_DIR": str(tmp_path / "shared"),
            "KB_CHROMA_URL": chroma.url,
            "KB_QUEUE_URL": postgres.url,
            "KB_SEED_DIR": str(tmp_path / "seed"),
            "KB_PRELOAD_MODEL": "false",
            "KB_JOB_LEASE_S": str(LEASE_S),
        }

    def start(*args: str, name: str) -> KbProcess:
        proc = KbProcess(*args, env=env(name), log=tmp_path / f"{name}.log").start()
        processes.append(proc)
        return proc

    with chroma, postgres:
        try:
            yield SimpleNamespace(
                a=start("serve", "--no-ui", name="a"),
                b=start("serve", "--no-ui", name="b"),
                start_worker=lambda name: start("worker", name=name),
                postgres=postgres,
                shared=tmp_path / "shared",
            )
        finally:
            for proc in processes:
                proc.stop()


def keyword_sources(client: httpx.Client, kb: str, query: str) -> list[str]:
    reply = client.post("/search", json={"kb": kb, "query": query, "k": 5, "mode": "keyword"})
    assert reply.status_code == 200, reply.text
    return [h["source"] for h in reply.json()["hits"]]


def wait_for(check, timeout_s: float) -> float:
    """Seconds until ``check()`` held; fails after ``timeout_s``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, f"not within {timeout_s} s"
        time.sleep(0.25)
    return time.monotonic() - started


def test_replicas_agree_through_the_queue(cluster, tmp_path):
    cluster.start_worker("w1")
    with (
        httpx.Client(base_url=cluster.a.base, timeout=60) as ca,
        httpx.Client(base_url=cluster.b.base, timeout=60) as cb,
    ):
        assert ca.get("/health").json()["queue"] == "ok"
        # B opened the knowledge base (and its keyword index) before A's upload
        assert cb.post("/kbs", json={"name": "shared"}).status_code == 201
        assert keyword_sources(cb, "shared", "第1号文件") == []
        paths = make_files(tmp_path / "in", count=3, paragraphs=3)
        reply = ca.post(
            "/kbs/shared/documents", files=[("files", (p.name, p.read_bytes())) for p in paths]
        )
        assert reply.status_code == 202
        job = wait_done(cb, reply.json()["job_id"], timeout_s=180)  # B reports a job A accepted
        assert [f["status"] for f in job["files"]] == ["indexed"] * 3, job
        assert (
            wait_for(
                lambda: "doc-01.txt" in keyword_sources(cb, "shared", "第1号文件第2段"), BOUND_S
            )
            <= BOUND_S
        )

        doc_id = next(
            d["doc_id"]
            for d in cb.get("/kbs/shared/documents").json()
            if d["source"] == "doc-01.txt"
        )
        # the original, shared
        assert ca.get(f"/kbs/shared/documents/{doc_id}/file").status_code == 200
        assert cb.delete(f"/kbs/shared/documents/{doc_id}").status_code == 204
        wait_for(
            lambda: "doc-01.txt" not in keyword_sources(ca, "shared", "第1号文件第2段"), BOUND_S
        )
        assert sorted(d["source"] for d in ca.get("/kbs/shared/documents").json()) == [
            "doc-00.txt",
            "doc-02.txt",
        ]


def test_a_killed_worker_is_replaced_and_nothing_is_lost(cluster, tmp_path):
    worker = cluster.start_worker("w1")
    paths = make_files(tmp_path / "in", count=5, paragraphs=10)
    with (
        httpx.Client(base_url=cluster.a.base, timeout=60) as ca,
        httpx.Client(base_url=cluster.b.base, timeout=60) as cb,
    ):
        job_id = upload(ca, "durable", paths)

        def some_indexed() -> bool:
            return [f["status"] for f in cb.get(f"/jobs/{job_id}").json()["files"]].count(
                "indexed"
            ) >= 2

        wait_for(some_indexed, 240)
        worker.kill()
        statuses = [f["status"] for f in cb.get(f"/jobs/{job_id}").json()["files"]]
        assert statuses.count("pending") > 0, statuses  # killed mid-job
        cluster.start_worker("w2")
        job = wait_done(ca, job_id, timeout_s=300)
        assert job["status"] == "done"
        assert all(f["status"] in ("indexed", "duplicate") for f in job["files"]), job["files"]
        documents = cb.get("/kbs/durable/documents").json()
        assert sorted(d["source"] for d in documents) == sorted(p.name for p in paths)
        assert {d["status"] for d in documents} == {"indexed"}  # no partial document
        hits = cb.post("/search", json={"kb": "durable", "query": "第4号文件第3段", "k": 3}).json()[
            "hits"
        ]
        assert hits and hits[0]["source"] == "doc-04.txt"


def test_a_stopped_worker_gives_its_job_back(cluster, tmp_path):
    """SIGTERM: the file being embedded is finished, the rest of the job goes back to the queue (not
    cancelled), the worker exits 0, and the next worker completes the job."""
    worker = cluster.start_worker("w1")
    paths = make_files(tmp_path / "in", count=4, paragraphs=10)
    with httpx.Client(base_url=cluster.a.base, timeout=60) as ca:
        job_id = upload(ca, "handover", paths)
        wait_for(
            lambda: any(
                f["status"] == "indexed" for f in ca.get(f"/jobs/{job_id}").json()["files"]
            ),
            240,
        )
        assert worker.terminate() == 0
        statuses = [f["status"] for f in ca.get(f"/jobs/{job_id}").json()["files"]]
        assert "pending" in statuses and "cancelled" not in statuses, statuses
        cluster.start_worker("w2")
        job = wait_done(ca, job_id, timeout_s=300)
        assert [f["status"] for f in job["files"]] == ["indexed"] * len(paths), job["files"]
        assert {d["status"] for d in ca.get("/kbs/handover/documents").json()} == {"indexed"}


def test_queue_down_is_a_clear_503_and_accepted_jobs_wait_for_a_worker(cluster, tmp_path):
    paths = make_files(tmp_path / "in", count=2, paragraphs=2)
    with httpx.Client(base_url=cluster.a.base, timeout=60) as ca:
        job_id = upload(ca, "waiting", paths[:1])
        time.sleep(1.5)
        job = ca.get(f"/jobs/{job_id}").json()
        assert (job["status"], job["files"][0]["stage"]) == ("running", "queued")  # no worker yet

        cluster.postgres.kill()
        health = ca.get("/health")
        assert health.status_code == 503 and health.json()["queue"] == "unreachable"
        reply = ca.post(
            "/kbs/waiting/documents", files=[("files", (paths[1].name, paths[1].read_bytes()))]
        )
        assert reply.status_code == 503 and "queue is unreachable" in reply.json()["detail"], (
            reply.text
        )
        kept = sorted(p.name for p in (cluster.shared / "uploads").rglob("*.txt"))
        assert kept == [paths[0].name]  # the refused upload left no copy; the accepted one is kept

        cluster.postgres.start()
        wait_for(lambda: ca.get("/health").status_code == 200, 30)
        cluster.start_worker("w1")
        job = wait_done(ca, job_id, timeout_s=120)  # accepted before the outage, done after it
        assert [f["status"] for f in job["files"]] == ["indexed"]
