"""A store that dies under a running job: the Chroma server SIGKILLed while a job embeds and
writes, the PostgreSQL queue SIGKILLed while a job records its outcomes. Each time the job waits
(the file at hand shows ``waiting for the store``), resumes when the store is back, and every
accepted file ends indexed, none partial."""

import time
import uuid
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.servers import ChromaServer, PostgresServer, ServerUnavailable, running_server

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

WAITING = "waiting for the store"
PARAGRAPH = "第{n}号文件第{i}段：知识库会把每个文件切成小块，再逐块向量化，最后写入向量库。"


def make_files(folder: Path, count: int, paragraphs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"doc-{n:02d}.txt"
        text = "\n\n".join(PARAGRAPH.format(n=n, i=i) * 3 for i in range(paragraphs))
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def wait_for(probe, timeout_s: float, every_s: float = 0.05):
    """The first truthy ``probe()``, or the last value when time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every_s)


def assert_whole(chroma_url: str, kb_name: str, names: list[str]) -> None:
    """Every document indexed with exactly its chunks in the store; nothing pending left."""
    from retrieval import open_chroma_client, store_id
    from retrieval.registry import DocumentRegistry

    client = open_chroma_client(url=chroma_url)
    sid = store_id(kb_name)
    registry = DocumentRegistry(client.get_collection(sid + "__docs", embedding_function=None))
    chunks = client.get_collection(sid, embedding_function=None)
    records = registry.all()
    assert sorted(r.source for r in records) == sorted(names)
    assert {r.status for r in records} == {"indexed"}, [(r.source, r.status) for r in records]
    for r in records:
        stored = chunks.get(where={"doc_id": r.doc_id}, include=[])["ids"]
        assert len(stored) == r.chunks, (r.source, len(stored), r.chunks)


def test_chroma_server_killed_mid_job_the_job_waits_and_resumes(tmp_path):
    from app.web import create_app

    try:
        chroma = ChromaServer(tmp_path / "chroma")
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    paths = make_files(tmp_path / "in", count=3, paragraphs=40)
    (tmp_path / "seed").mkdir()
    settings = Settings(
        data_dir=tmp_path / "data",
        seed_dir=tmp_path / "seed",
        chroma_url=chroma.url,
        preload_model=False,
        store_wait_s=300,
        _env_file=None,
    )
    with chroma, running_server(create_app(settings, with_ui=False)) as base:
        client = httpx.Client(base_url=base, timeout=60)
        assert client.post("/kbs", json={"name": "outage"}).status_code == 201
        reply = client.post(
            "/kbs/outage/documents", files=[("files", (p.name, p.read_bytes())) for p in paths]
        )
        job_id = reply.json()["job_id"]

        def writing_the_second_file():
            files = client.get(f"/jobs/{job_id}").json()["files"]
            return files[0]["status"] == "indexed" and files[1]["chunks_done"] > 0

        assert wait_for(writing_the_second_file, 300), client.get(f"/jobs/{job_id}").json()
        chroma.kill()  # mid-write: the second file's chunks are going in
        stages = wait_for(
            lambda: WAITING in [f["stage"] for f in client.get(f"/jobs/{job_id}").json()["files"]],
            30,
        )
        assert stages, client.get(f"/jobs/{job_id}").json()
        assert client.get("/health").json()["store"] == "unreachable"
        time.sleep(3)  # a few backoff rounds
        chroma.start()

        job = wait_for(
            lambda: (j := client.get(f"/jobs/{job_id}").json())["status"] != "running" and j,
            300,
            every_s=0.5,
        )
        assert job and job["status"] == "done", job
        assert [f["status"] for f in job["files"]] == ["indexed"] * len(paths), job["files"]
        assert_whole(chroma.url, "outage", [p.name for p in paths])
        hits = client.post(
            "/search", json={"kb": "outage", "query": "第1号文件第7段", "k": 1}
        ).json()["hits"]
        assert hits and hits[0]["source"] == "doc-01.txt"
        client.close()


@pytest.fixture()
def postgres():
    try:
        server = PostgresServer()
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    with server:
        yield server


def test_queue_restarted_under_a_running_job_the_job_finishes(postgres, tmp_path):
    """One worker over the PostgreSQL queue; the queue is SIGKILLed after the first file and
    started again a few seconds later: the worker waits, then records every outcome."""
    import psycopg

    from app.operations import Operations
    from app.operations.job_store_pg import PostgresJobStore

    name = "q_" + uuid.uuid4().hex[:8]
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    queue_url = postgres.url.rsplit("/", 1)[0] + "/" + name
    paths = make_files(tmp_path / "in", count=3, paragraphs=15)
    settings = Settings(
        data_dir=tmp_path / "data", queue_url=queue_url, store_wait_s=300, _env_file=None
    )
    ops = Operations.from_settings(settings, run_jobs=True)
    try:
        ops.knowledge.open("queue", create=True)
        job_id = ops.knowledge.submit("queue", [(p, p.name) for p in paths]).id
        assert wait_for(lambda: ops.knowledge.job(job_id).files[0].status == "indexed", 300)
        postgres.kill()
        waiting = wait_for(
            lambda: any(f.stage == WAITING for f in ops.knowledge.job(job_id).files), 60
        )
        assert waiting, ops.knowledge.job(job_id).as_dict()
        time.sleep(2)
        postgres.start()
        assert wait_for(lambda: ops.knowledge.job(job_id).status != "running", 300, 0.5)
        job = ops.knowledge.job(job_id)
        assert [f.status for f in job.files] == ["indexed"] * len(paths), job.as_dict()
        recorded = PostgresJobStore(queue_url).get(job_id)  # what the queue itself says
        assert recorded["status"] == "done"
        assert [f["status"] for f in recorded["files"]] == ["indexed"] * len(paths)
        documents = ops.knowledge.documents("queue")
        assert sorted(d.source for d in documents) == sorted(p.name for p in paths)
        assert {d.status for d in documents} == {"indexed"}
    finally:
        ops.knowledge.shutdown()
