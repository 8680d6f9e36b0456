"""The job store is also the queue: claims are exclusive and leased, a dead worker's job is taken up
by another, outcomes are written only by the lease holder. Run on SQLite and on a real PostgreSQL
server (skipped where PostgreSQL is not installed; `.ci/run` installs it)."""

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest

from app.operations.job_store import SqliteJobStore
from app.operations.job_store_pg import PostgresJobStore
from app.operations.jobs import JobManager
from ingest import FileOutcome
from tests.servers import PostgresServer, ServerUnavailable

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it


@pytest.fixture(scope="module")
def postgres():
    try:
        server = PostgresServer()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    with server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        yield SqliteJobStore(tmp_path / "jobs.sqlite")
        return
    import psycopg

    server = request.getfixturevalue("postgres")
    name = "t_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    store = PostgresJobStore(server.url.rsplit("/", 1)[0] + "/" + name)
    yield store
    store.close()


def files(n: int) -> list[tuple[Path, str]]:
    return [(Path(f"/nowhere/f{i}.txt"), f"f{i}.txt") for i in range(n)]


def test_each_job_is_claimed_by_one_worker(store):
    for i in range(6):
        store.create(f"job{i}", "kb", files(2), created=time.time() + i)
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        barrier.wait()
        while (record := store.claim(name, lease_s=60)) is not None:
            claimed.setdefault(name, []).append(record["id"])

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(j for jobs in claimed.values() for j in jobs)
    assert every == [f"job{i}" for i in range(6)]  # all claimed, none twice


def test_oldest_first_and_a_dead_workers_job_is_taken_up_after_its_lease(store):
    store.create("old", "kb", files(1), created=1.0)
    store.create("new", "kb", files(1), created=2.0)
    assert store.claim("a", lease_s=0.5)["id"] == "old"
    assert store.claim("b", lease_s=0.5)["id"] == "new"
    assert store.claim("c", lease_s=0.5) is None  # both leases live
    time.sleep(0.7)  # a and b died: nobody renewed
    assert store.claim("c", lease_s=60)["id"] == "old"


def test_only_the_lease_holder_writes_outcomes_and_finishes(store):
    store.create("j", "kb", files(2), created=1.0)
    store.claim("a", lease_s=0.2)
    time.sleep(0.3)
    store.claim("b", lease_s=60)  # a's lease ran out; b holds the job now
    assert store.renew("j", "a", 60) == (False, False)
    store.file_done("j", 0, "a", "indexed", "d0", None, 3)  # a zombie's write is ignored
    assert store.get("j")["files"][0]["status"] == "pending"
    store.file_done("j", 0, "b", "indexed", "d0", None, 3)
    assert not store.finish("j", "a")
    assert store.finish("j", "b")
    job = store.get("j")
    assert job["status"] == "done" and job["files"][0]["status"] == "indexed"


def test_release_hands_back_at_once_and_cancel_reaches_the_holder(store):
    store.create("j", "kb", files(1), created=1.0)
    store.claim("a", lease_s=60)
    store.release("j", "a")
    assert store.claim("b", lease_s=60)["id"] == "j"
    store.request_cancel("j")
    assert store.renew("j", "b", 60) == (True, True)


def test_progress_is_readable_by_any_process(store):
    store.create("j", "kb", files(1), created=1.0)
    store.progress(
        "j", 0, {"stage": "embedding", "chunks_done": 4, "chunks_total": 10, "started": 5.0}
    )
    row = store.get("j")["files"][0]
    assert (row["stage"], row["chunks_done"], row["chunks_total"], row["started"]) == (
        "embedding",
        4,
        10,
        5.0,
    )


def test_an_old_sqlite_store_gains_the_new_columns(tmp_path):
    db = sqlite3.connect(tmp_path / "jobs.sqlite")
    db.executescript("""
        CREATE TABLE jobs (id TEXT PRIMARY KEY, kb TEXT NOT NULL, status TEXT NOT NULL,
                           created REAL NOT NULL, finished REAL);
        CREATE TABLE job_files (job_id TEXT NOT NULL, idx INTEGER NOT NULL, source TEXT NOT NULL,
            path TEXT NOT NULL, status TEXT NOT NULL, doc_id TEXT, error TEXT,
            chunks INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, idx));
        INSERT INTO jobs VALUES ('j', 'kb', 'running', 1.0, NULL);
        INSERT INTO job_files VALUES ('j', 0, 'a.txt', '/x/a.txt', 'pending', NULL, NULL, 0);""")
    db.commit()
    db.close()
    store = SqliteJobStore(tmp_path / "jobs.sqlite")
    assert store.claim("w", 60)["files"][0]["source"] == "a.txt"


def test_two_managers_share_the_queue_and_every_file_is_ingested_once(store, tmp_path):
    """Two worker loops (as two `kb worker` processes would) drain jobs recorded by a third,
    API-only one."""
    seen: list[str] = []
    lock = threading.Lock()

    def ingest(kb, batch, progress, should_stop):
        for i, (_path, source) in enumerate(batch):
            progress.file_started(source, i, len(batch))
            time.sleep(0.02)
            with lock:
                seen.append(source)
            progress.file_done(FileOutcome(source, "indexed", doc_id=source, chunks=1))

    api = JobManager(ingest, store, tmp_path, run_here=False)
    workers = [
        JobManager(ingest, store, tmp_path, run_here=True, worker_id=f"w{i}", poll_s=0.05)
        for i in range(2)
    ]
    for w in workers:
        w.start()
    jobs = [
        api.submit("kb", [(Path(f"/x/{j}-{k}"), f"{j}-{k}") for k in range(3)]) for j in range(5)
    ]
    deadline = time.monotonic() + 30
    while any(api.get(j.id).status == "running" for j in jobs) and time.monotonic() < deadline:
        time.sleep(0.05)
    for w in workers:
        w.shutdown()
    assert sorted(seen) == sorted(f"{j}-{k}" for j in range(5) for k in range(3))
    for job in jobs:
        state = api.get(job.id)  # read from the store: the API manager ran nothing itself
        assert state.status == "done" and state.progress == 1.0
        assert [f.status for f in state.files] == ["indexed"] * 3


def test_a_store_whose_server_is_down_opens_and_says_so_on_use():
    """A server or worker starts while the queue is still down (compose start order, a restart): the
    store connects on first use, and what it raises is one of STORE_ERRORS (a 503 at the API)."""
    from app.operations.job_store import STORE_ERRORS
    from tests.servers import free_port

    store = PostgresJobStore(
        f"postgresql://kb@127.0.0.1:{free_port()}/postgres", connect_timeout_s=1
    )
    with pytest.raises(STORE_ERRORS):
        store.ping()


def test_an_answer_given_by_one_replica_is_rated_through_another(store):
    """Issue 38, item 4: answers and ratings live beside the jobs, so a rating sent to any replica
    finds the answer another gave (two logs over one store stand for two replicas)."""
    from answering import Answer, Citation
    from app.operations import InvalidRequest, NotFound
    from app.operations.feedback import AnswerLog, as_qa_items

    given, other = AnswerLog(store, keep_s=3600), AnswerLog(store, keep_s=3600)
    cited = Citation(1, "手册.md", 2, "年假十五天。", 0.9, "d" * 64, "d" * 24 + "-0")
    answer = Answer("十五天 [1]", [cited], {}, "local:test", "年假几天？")
    given.remember("a" * 32, "手册", answer, {"model": "local:test", "k": 5})
    rated = other.rate("a" * 32, "手册", "down", "不全", "十五个工作日")
    assert rated["question"] == "年假几天？" and rated["citations"][0]["page"] == 2
    assert [r["correct_answer"] for r in given.listed("手册")] == ["十五个工作日"]
    with pytest.raises(NotFound):
        other.rate("b" * 32, "手册", "up")
    with pytest.raises(NotFound):
        other.rate("a" * 32, "别的库", "up")  # an answer of another knowledge base
    with pytest.raises(InvalidRequest):
        other.rate("a" * 32, "手册", "meh")
    items, skipped = as_qa_items(given.listed("手册"))
    assert skipped == 0 and items[0]["answers"] == ["十五个工作日"] and items[0]["page"] == 2
