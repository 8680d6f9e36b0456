"""Nothing accepted is lost: a server killed with SIGKILL in the middle of an ingestion job,
restarted on the same data dir, finishes the job under the same id; a cancelled job leaves nothing
half-written."""

import time
from pathlib import Path

import httpx
import pytest

from tests.servers import KbProcess

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

PARAGRAPH = (
    "第{n}号文件第{i}段：知识库会把每个文件切成小块，再逐块向量化，最后写入向量库和关键词索引。"
)


def make_files(folder: Path, count: int, paragraphs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        path = folder / f"doc-{n:02d}.txt"
        path.write_text(
            "\n\n".join(PARAGRAPH.format(n=n, i=i) * 3 for i in range(paragraphs)), encoding="utf-8"
        )
        paths.append(path)
    return paths


def kb_serve(data: Path, seed: Path) -> KbProcess:
    """`kb serve --no-ui` on ``data``, killable with SIGKILL."""
    return KbProcess(
        "serve",
        "--no-ui",
        env={"KB_DATA_DIR": str(data), "KB_SEED_DIR": str(seed), "KB_PRELOAD_MODEL": "false"},
    )


@pytest.fixture()
def dirs(tmp_path):
    (tmp_path / "seed").mkdir()
    return tmp_path / "data", tmp_path / "seed"


def upload(client: httpx.Client, kb: str, paths: list[Path]) -> str:
    assert client.post("/kbs", json={"name": kb}).status_code == 201
    reply = client.post(
        f"/kbs/{kb}/documents", files=[("files", (p.name, p.read_bytes())) for p in paths]
    )
    assert reply.status_code == 202, reply.text
    return reply.json()["job_id"]


def wait_done(client: httpx.Client, job_id: str, timeout_s: float = 300) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.3)
    raise TimeoutError(job)


def test_killed_mid_job_resumes_after_restart(dirs, tmp_path):
    paths = make_files(tmp_path / "in", count=5, paragraphs=10)
    server = kb_serve(*dirs).start()
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            job_id = upload(client, "durable", paths)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:  # kill once some, not all, files are in
                statuses = [f["status"] for f in client.get(f"/jobs/{job_id}").json()["files"]]
                if statuses.count("indexed") >= 2:
                    break
                time.sleep(0.1)
        assert 2 <= statuses.count("indexed") < len(paths), statuses
        server.kill()
        server = kb_serve(*dirs).start()
        with httpx.Client(base_url=server.base, timeout=60) as client:
            job = wait_done(client, job_id)  # the same id, valid across the restart
            assert job["status"] == "done"
            assert sorted(f["source"] for f in job["files"]) == sorted(p.name for p in paths)
            assert all(f["status"] in ("indexed", "duplicate") for f in job["files"]), job["files"]
            documents = client.get("/kbs/durable/documents").json()
            assert sorted(d["source"] for d in documents) == sorted(p.name for p in paths)
            assert {d["status"] for d in documents} == {"indexed"}  # no partial document
            assert job_id in [j["job_id"] for j in client.get("/jobs").json()]
            hits = client.post(
                "/search", json={"kb": "durable", "query": "第4号文件第3段", "k": 3}
            ).json()["hits"]
            assert hits and hits[0]["source"] == "doc-04.txt"
    finally:
        server.stop()


def test_cancel_leaves_nothing_half_written(dirs, tmp_path):
    paths = make_files(tmp_path / "in", count=8, paragraphs=30)
    server = kb_serve(*dirs).start()
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            job_id = upload(client, "cancel-me", paths)
            cancelled = client.post(f"/jobs/{job_id}/cancel")
            assert cancelled.status_code == 200
            job = wait_done(client, job_id)
            statuses = [f["status"] for f in job["files"]]
            assert job["status"] == "cancelled" and "pending" not in statuses, statuses
            assert "cancelled" in statuses and set(statuses) <= {"indexed", "cancelled"}
            documents = client.get("/kbs/cancel-me/documents").json()
            assert {d["status"] for d in documents} <= {"indexed"}
            assert len(documents) == statuses.count("indexed")
            assert client.post("/jobs/nope/cancel").status_code == 404
    finally:
        server.stop()
