"""Upload progress that tells the truth, over real HTTP: each file's stage (queued, reading or OCR
page x/y, embedding chunk x/y, writing, done), its counts and times, as the job runs."""

import time

import httpx
import pytest

from app.settings import Settings
from tests.make_files import FileFactory
from tests.servers import running_server


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from app.web import create_app

    root = tmp_path_factory.mktemp("progress")
    (root / "seed").mkdir()
    settings = Settings(
        data_dir=root / "data", seed_dir=root / "seed", preload_model=False, _env_file=None
    )
    with (
        running_server(create_app(settings, with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=60) as c,
    ):
        assert c.post("/kbs", json={"name": "scans"}).status_code == 201
        yield c, FileFactory(root)


def test_job_reports_stages_pages_and_chunks_as_it_runs(client):
    c, make = client
    scan = make.image_only_pdf("scan.pdf", "第七条年假规定", pages=4)
    text = make.text(
        "notes.txt",
        "\n\n".join(f"第{i}段：知识库会把每个文件切成小块，再逐块向量化。" * 3 for i in range(40)),
    )
    sent_at = time.time()
    job_id = c.post(
        "/kbs/scans/documents",
        files=[
            ("files", ("scan.pdf", scan.read_bytes())),
            ("files", ("notes.txt", text.read_bytes())),
        ],
    ).json()["job_id"]
    seen, deadline = [], time.monotonic() + 300
    while time.monotonic() < deadline:
        job = c.get(f"/jobs/{job_id}").json()
        seen.append(job)
        if job["status"] == "done":
            break
        time.sleep(0.05)
    final = seen[-1]
    assert final["status"] == "done" and [f["status"] for f in final["files"]] == [
        "indexed",
        "indexed",
    ], final
    scan_states = [job["files"][0] for job in seen]
    notes_states = [job["files"][1] for job in seen]
    assert notes_states[0]["stage"] == "queued"  # waits its turn behind the scan
    ocr = [f for f in scan_states if f["stage"] == "ocr"]
    assert ocr and ocr[0]["pages_total"] == 4 and 1 <= ocr[0]["pages_done"] <= 4, scan_states
    assert any(
        f["stage"] == "embedding" and f["chunks_total"] > 0 for f in notes_states + scan_states
    )
    done_scan = final["files"][0]
    assert (
        done_scan["stage"] == "done" and done_scan["pages_done"] == 4 and done_scan["elapsed_s"] > 0
    )
    assert done_scan["chunks_done"] == done_scan["chunks_total"] == done_scan["chunks"] > 0
    progress = [job["progress"] for job in seen]
    assert progress == sorted(progress) and progress[-1] == 1.0  # never goes backwards
    # "added" is when the files were received, not when each finished indexing: the notes waited
    # behind the scan's OCR
    added = {d["source"]: d["added_at"] for d in c.get("/kbs/scans/documents").json()}
    assert sent_at - 1 < added["notes.txt"] < sent_at + 1 < sent_at + final["elapsed_s"], added
    assert added["scan.pdf"] == added["notes.txt"]
