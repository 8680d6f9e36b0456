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


def test_overall_progress_counts_what_is_left_not_files():
    """Issue 38, item 7: a 196-page book 94 % embedded beside two small Markdown files already done
    read 31 % (one file of three); each file now weighs its bytes, reading counts for a tenth of a
    file and embedding for the rest."""
    from app.operations.job_model import Job, JobFile

    book = JobFile("book.pdf", stage="embedding", pages_done=196, pages_total=196, size=5_000_000)
    book.chunks_total, book.chunks_done = 1500, 1410
    notes = [JobFile(f"ch{n}.md", status="indexed", stage="done", size=20_000) for n in (1, 2)]
    job = Job("j", "kb", [book, *notes])
    assert 0.93 < job.progress < 0.96, job.progress
    shares = []
    for done in (0, 500, 1000, 1499):  # as the book goes on, the bar only moves forward
        book.chunks_done = done
        shares.append(job.progress)
    assert shares == sorted(shares) and shares[0] > 0.09  # its pages read: a tenth of it
    unsized = Job("j", "kb", [JobFile("a.md", status="indexed"), JobFile("b.md")])
    assert unsized.progress == 0.5  # sizes unknown (another machine's disk): files weigh the same
