"""The pieces behind a job that meets a full disk or a store that went away, each on its own (no
mount, no server): the wait with backoff, the disk guard around a knowledge base's writes, the
rollback of a failed write, the upload's room check, and the 507 in both error shapes."""

import io
import re

import httpx
import pytest
from langchain_core.documents import Document

from app.operations.disk import DiskSpace
from app.operations.errors import DiskFull
from app.operations.job_writes import JobWrites
from app.operations.patience import Patience
from ingest import IngestError, Interrupted

QUICK = Patience(give_up_s=1.0, first_s=0.01, most_s=0.04)
REASON = re.compile(r"disk full: [\d.]+ MB free, needs [\d.]+ MB")


def flaky(failures: list[BaseException], result="ok"):
    """A call that raises each of ``failures`` in turn, then returns ``result``."""
    calls = []

    def call():
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return result

    return call, calls


def test_patience_waits_out_a_transient_error_and_says_so():
    call, calls = flaky([httpx.ConnectError("refused"), httpx.ConnectError("refused")])
    seen, agains = [], []
    result = QUICK.call(
        "store",
        call,
        lambda exc: isinstance(exc, httpx.ConnectError),
        waiting=seen.append,
        again=lambda: agains.append(1),
    )
    assert result == "ok" and len(calls) == 3 and len(agains) == 2
    assert seen == [True, True, False]  # waiting while away, then back


def test_patience_gives_up_stops_and_never_retries_other_errors():
    transient = lambda exc: isinstance(exc, httpx.ConnectError)  # noqa: E731
    always = [httpx.ConnectError("refused")] * 1000
    with pytest.raises(httpx.ConnectError):
        QUICK.call("store", flaky(list(always))[0], transient)  # past give_up_s
    with pytest.raises(Interrupted):
        QUICK.call("store", flaky(list(always))[0], transient, should_stop=lambda: True)
    call, calls = flaky([ValueError("a bug")])
    with pytest.raises(ValueError):
        QUICK.call("store", call, transient)
    assert len(calls) == 1


class FakeKB:
    """What JobWrites wraps: records the calls; ``add_document`` runs the batches it is given."""

    id = "kb_fake"

    def __init__(self, failures=()):
        self.failures, self.added, self.discarded = list(failures), [], []

    def add_document(self, doc_id, source, chunks, pages=0, on_progress=None, **_):
        if self.failures:
            raise self.failures.pop(0)
        for _ in range(3):
            on_progress(16)
        self.added.append(doc_id)
        return "record"

    def discard_unfinished(self, doc_id):
        self.discarded.append(doc_id)

    def delete_document(self, doc_id):
        self.discarded.append(doc_id)
        return True


class Progress:
    def __init__(self):
        self.waits, self.planned = [], []

    def waiting_for_store(self, on):
        self.waits.append(on)

    def chunks_planned(self, source, count):
        self.planned.append(count)


def writes(kb, tmp_path, min_free_mb=0.0, progress=None) -> JobWrites:
    return JobWrites(kb, DiskSpace([tmp_path], min_free_mb), QUICK, progress or Progress())


def test_below_the_floor_a_file_fails_with_the_reason_before_anything_is_written(tmp_path):
    kb = FakeKB()
    guarded = writes(kb, tmp_path, min_free_mb=10**9)  # never enough room
    guarded.disk.reserve.write_bytes(b"r")
    with pytest.raises(IngestError) as failed:
        guarded.add_document("d1", "a.txt", ["chunk"])
    assert REASON.fullmatch(failed.value.reason) and kb.added == []
    assert kb.discarded == ["d1"] and not guarded.disk.reserve.exists()  # room for the rollback


def test_a_disk_full_error_from_the_store_becomes_the_same_reason(tmp_path):
    chroma_says = Exception(
        "Query error: Database error: error returned from database: (code: 13) database or disk"
        " is full"
    )
    kb = FakeKB([chroma_says])
    with pytest.raises(IngestError) as failed:
        writes(kb, tmp_path).add_document("d1", "a.txt", ["chunk"])
    assert REASON.fullmatch(failed.value.reason) and kb.discarded == ["d1"]


def test_a_store_away_mid_write_is_waited_for_and_the_file_written_again(tmp_path):
    kb, progress = FakeKB([httpx.ReadError("server gone")]), Progress()
    assert (
        writes(kb, tmp_path, progress=progress).add_document("d1", "a.txt", ["c"] * 3) == "record"
    )
    assert kb.added == ["d1"] and progress.waits == [True, False] and progress.planned == [3]
    other = FakeKB([RuntimeError("a bug in the store")])
    with pytest.raises(RuntimeError):  # not a fault to wait out: the file fails as before
        writes(other, tmp_path).add_document("d1", "a.txt", ["c"])


def test_a_failed_write_leaves_nothing_of_the_document(store):
    kb = store.create("rollback")
    chunks = [Document(page_content=f"第{i}段文字。", metadata={}) for i in range(40)]

    def out_of_room(count):
        raise DiskFull("disk full: 0.5 MB free, needs 8 MB")

    with pytest.raises(DiskFull):
        kb.add_document("d" * 64, "a.txt", chunks, on_progress=out_of_room)
    assert kb.collection.get(where={"doc_id": "d" * 64}, include=[])["ids"] == []
    assert kb.registry.get("d" * 64) is None and kb.documents() == []


def test_an_upload_without_room_is_refused_before_anything_is_saved(tmp_path):
    from app.operations.uploads import save_uploads

    disk = DiskSpace([tmp_path], min_free_mb=10**9)
    with pytest.raises(DiskFull) as refused:
        save_uploads(tmp_path / "up", [("a.txt", io.BytesIO(b"x" * 3000))], 2**20, disk)
    assert REASON.fullmatch(refused.value.message) and refused.value.status == 507
    assert not (tmp_path / "up").exists()
    saved, _ = save_uploads(
        tmp_path / "up", [("a.txt", io.BytesIO(b"x"))], 2**20, DiskSpace([tmp_path], 0)
    )
    assert [name for _, name in saved] == ["a.txt"]


def test_disk_full_in_the_rest_and_the_openai_shape():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from app.web.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/v1/full")
    @app.get("/full")
    def full():
        raise DiskFull("disk full: 1 MB free, needs 14 MB")

    client = TestClient(app)
    rest, openai = client.get("/full"), client.get("/v1/full")
    assert rest.status_code == openai.status_code == 507
    assert rest.json() == {"detail": "disk full: 1 MB free, needs 14 MB"}
    assert openai.json() == {
        "error": {
            "message": "disk full: 1 MB free, needs 14 MB",
            "type": "server_error",
            "code": "disk_full",
            "param": None,
        }
    }


def test_no_room_for_the_original_takes_the_new_document_back(tmp_path):
    import errno

    from app.operations.sources import KeepOriginals
    from ingest import FileOutcome

    class Full:
        def keep(self, *args):
            raise OSError(errno.ENOSPC, "No space left on device")

    class Recorder:
        def __init__(self):
            self.outcomes = []

        def file_started(self, *args):
            pass

        def file_done(self, outcome):
            self.outcomes.append(outcome)

    kb, inner = FakeKB(), Recorder()
    keeping = KeepOriginals(
        Full(), "kb_fake", [(tmp_path / "a.txt", "a.txt")], inner, writes=writes(kb, tmp_path)
    )
    keeping.file_started("a.txt", 0, 1)
    keeping.file_done(FileOutcome("a.txt", "indexed", "d1", chunks=3))
    keeping.file_done(
        FileOutcome(
            "b.txt",
            "failed",
            "d2",
            error="could not read the file (OSError: [Errno 28] No space left on device)",
        )
    )
    first, second = inner.outcomes
    assert first.status == "failed" and REASON.fullmatch(first.error) and kb.discarded == ["d1"]
    assert REASON.fullmatch(second.error)  # a reader that ran out of room says it the same way
