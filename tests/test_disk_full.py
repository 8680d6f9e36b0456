"""A full disk is a clear, recoverable state: the server's data dir on a 40 MB tmpfs, filled to the
last megabyte. An upload is answered 507 with the free space, what was indexed stays searchable,
/health says degraded, and once space is freed the next upload indexes; space running out while a
job writes fails that file (rolled back whole) and the job ends. Mounting needs root: elsewhere
these tests skip and say why."""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.servers import running_server

MB = 2**20
REASON = re.compile(r"disk full: ([\d.]+) MB free, needs ([\d.]+) MB")


@pytest.fixture()
def small_disk(tmp_path):
    """A 40 MB tmpfs of its own."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave_mb: float) -> Path:
    """A file taking all the free space but ``leave_mb``."""
    filler = folder / "filler"
    extra = shutil.disk_usage(folder).free - int(leave_mb * MB)
    with open(filler, "ab") as out:
        while extra > 0:
            out.write(b"\0" * min(extra, MB))
            extra -= MB
    return filler


def free_mb(folder: Path) -> float:
    return shutil.disk_usage(folder).free / MB


@pytest.fixture()
def server(small_disk, tmp_path):
    """The API over a data dir on the small disk (KB_MIN_FREE_MB=8); (client, app, data dir)."""
    from app.web import create_app

    (tmp_path / "seed").mkdir()
    settings = Settings(
        data_dir=small_disk / "data",
        seed_dir=tmp_path / "seed",
        preload_model=False,
        min_free_mb=8,
        _env_file=None,
    )
    app = create_app(settings, with_ui=False)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        assert client.post("/kbs", json={"name": "disk"}).status_code == 201
        yield client, app, small_disk


def upload(client: httpx.Client, *files: tuple[str, bytes]) -> httpx.Response:
    return client.post("/kbs/disk/documents", files=[("files", f) for f in files])


def finished(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] != "running":
            return job
        time.sleep(0.1)
    raise TimeoutError(job)


def indexed(client: httpx.Client, name: str, text: str) -> None:
    reply = upload(client, (name, text.encode()))
    assert reply.status_code == 202, reply.text
    job = finished(client, reply.json()["job_id"])
    assert [f["status"] for f in job["files"]] == ["indexed"], job


def top_hit(client: httpx.Client, query: str) -> str | None:
    hits = client.post("/search", json={"kb": "disk", "query": query, "k": 1}).json()["hits"]
    return hits[0]["source"] if hits else None


LIGHTHOUSE = "# 灯塔\n\n港口灯塔建于一八九四年，高三十一米，每十秒闪光一次。"
BRIDGE = "# 石桥\n\n城南石桥有九个桥孔，全长一百二十米，建于明代。"


def test_upload_on_a_full_disk_is_a_507_and_recovers(server):
    client, _, disk = server
    indexed(client, "lighthouse.md", LIGHTHOUSE)
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["disk"] == "ok"

    filler = fill(disk, leave_mb=1)
    refused = upload(client, ("report.pdf", b"%PDF-1.4\n" + b"0" * (6 * MB)))
    assert refused.status_code == 507, refused.text
    found = REASON.fullmatch(refused.json()["detail"])
    assert found, refused.json()
    assert float(found[1]) <= 1.5 and float(found[2]) >= 6 + 8  # the upload plus the margin
    assert not list((disk / "data").rglob("report*"))  # nothing of it was kept

    assert top_hit(client, "港口灯塔有多高") == "lighthouse.md"  # what was indexed stays searchable
    health = client.get("/health")
    body = health.json()
    assert health.status_code == 200 and body["status"] == "degraded" and body["disk"] == "full"
    assert body["disk_free_mb"] < 8 and body["limits"]["min_free_mb"] == 8
    assert body["limits"]["max_upload_mb"] == 50 and body["limits"]["job_retention_hours"] == 168

    filler.unlink()
    indexed(client, "bridge.md", BRIDGE)
    assert top_hit(client, "石桥有几个桥孔") == "bridge.md"
    assert client.get("/health").json()["status"] == "ok"


def test_space_running_out_while_a_job_writes_fails_that_file_whole(server, tmp_path):
    from ingest import file_sha256

    client, app, disk = server
    indexed(client, "lighthouse.md", LIGHTHOUSE)
    long_text = "\n\n".join(
        f"第{i}段：知识库会把每个文件切成小块，再逐块向量化，最后写入向量库和关键词索引。" * 4
        for i in range(300)
    )
    big = tmp_path / "long.txt"
    big.write_text(long_text, encoding="utf-8")
    job_id = upload(client, ("long.txt", big.read_bytes()), ("bridge.md", BRIDGE.encode())).json()[
        "job_id"
    ]
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline
    ):  # fill the disk once the long file's chunks are being written
        state = client.get(f"/jobs/{job_id}").json()["files"][0]
        if state["chunks_done"] > 0 or state["status"] != "pending":
            break
        time.sleep(0.02)
    assert state["status"] == "pending" and state["chunks_done"] < state["chunks_total"], state
    filler = fill(disk, leave_mb=1)

    job = finished(client, job_id)
    assert job["status"] == "done"  # the job ends, every file with an outcome
    for entry in job["files"]:
        assert entry["status"] == "failed" and REASON.fullmatch(entry["error"]), entry
    documents = client.get("/kbs/disk/documents").json()
    assert [(d["source"], d["status"]) for d in documents] == [("lighthouse.md", "indexed")]
    kb = app.state.operations.knowledge.open("disk")
    assert kb.collection.get(where={"doc_id": file_sha256(big)}, include=[])["ids"] == []
    assert kb.hidden_doc_ids() == []  # no half-written document left behind
    health = client.get("/health").json()
    assert health["status"] == "degraded" and health["disk_free_mb"] < 8
    assert top_hit(client, "港口灯塔有多高") == "lighthouse.md"

    filler.unlink()  # the server carries on: the same files index once there is room
    again = upload(client, ("bridge.md", BRIDGE.encode())).json()["job_id"]
    assert [f["status"] for f in finished(client, again)["files"]] == ["indexed"]
    assert client.get("/health").json()["status"] == "ok"


def test_chromas_own_disk_full_error_is_recognised(small_disk):
    """What embedded Chroma raises when its SQLite write finds no space (an ``InternalError``
    wrapping SQLite's code 13), and SQLite's own error, are both a full disk."""
    import sqlite3

    from retrieval import is_disk_full, open_chroma_client

    client = open_chroma_client(path=small_disk / "chroma")
    collection = client.get_or_create_collection("full", embedding_function=None)
    collection.add(ids=["a"], embeddings=[[0.1] * 8], documents=["a"])
    keyword = sqlite3.connect(str(small_disk / "kw.sqlite"))
    keyword.execute("CREATE TABLE t (x TEXT)")
    fill(small_disk, leave_mb=0)
    with pytest.raises(Exception) as chroma_error:
        collection.add(
            ids=[f"b{i}" for i in range(200)],
            embeddings=[[0.2] * 8] * 200,
            documents=["x" * 4000] * 200,
        )
    with pytest.raises(sqlite3.OperationalError) as sqlite_error:
        keyword.execute("INSERT INTO t VALUES (?)", ("y" * MB,))
    assert is_disk_full(chroma_error.value), repr(chroma_error.value)
    assert is_disk_full(sqlite_error.value), repr(sqlite_error.value)
    with pytest.raises(OSError) as os_error:
        (small_disk / "more").write_bytes(b"z" * MB)
    assert is_disk_full(os_error.value) and not is_disk_full(ValueError("bad value"))
