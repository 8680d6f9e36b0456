"""Background ingestion jobs for the API and the UI: one worker (embedding saturates the CPU).

Jobs are recorded in a ``JobStore`` before they are accepted and followed there file by file, so a
restart resumes them (``resume``) and job ids stay valid; live progress (stage, pages, chunks) is kept
in memory while a job runs here."""

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.operations.job_store import JobStore
from ingest import SilentProgress

log = logging.getLogger("kb.jobs")
_KEEP_IN_MEMORY = 200  # finished jobs whose full progress (stages, times) stays available here

# (knowledge-base name, files, progress, should_stop) -> ingest.IngestStats
IngestFn = Callable[[str, list[tuple[Path, str]], object, Callable[[], bool]], object]


@dataclass
class JobFile:
    source: str
    status: str = "pending"  # pending | indexed | duplicate | failed | cancelled
    doc_id: str | None = None
    error: str | None = None
    chunks: int = 0
    # what is happening to it now: queued | parsing | ocr | embedding | writing | done
    stage: str = "queued"
    pages_done: int = 0
    pages_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    started: float | None = None
    embed_started: float | None = None
    finished: float | None = None

    def as_dict(self) -> dict:
        now = self.finished or time.time()
        elapsed = round(now - self.started, 1) if self.started else 0.0
        return {"source": self.source, "status": self.status, "doc_id": self.doc_id, "error": self.error,
                "chunks": self.chunks, "stage": self.stage, "pages_done": self.pages_done,
                "pages_total": self.pages_total, "chunks_done": self.chunks_done, "chunks_total": self.chunks_total,
                "elapsed_s": elapsed, "eta_s": self._eta(now)}

    def _eta(self, now: float) -> float | None:
        """Seconds left, from the embedding rate so far (embedding is where the time goes)."""
        if self.stage != "embedding" or not self.chunks_done or not self.embed_started:
            return None
        rate = (now - self.embed_started) / self.chunks_done
        return round(rate * (self.chunks_total - self.chunks_done), 1)


@dataclass
class Job:
    id: str
    kb: str
    files: list[JobFile]
    status: str = "running"  # running | done | cancelled
    created: float = field(default_factory=time.time)
    cancel_requested: bool = False

    @property
    def progress(self) -> float:
        if self.status != "running":
            return 1.0
        total = len(self.files) or 1
        finished = sum(f.status != "pending" for f in self.files)
        partial = sum(f.chunks_done / f.chunks_total for f in self.files if f.status == "pending" and f.chunks_total)
        return round(min(0.999, (finished + partial) / total), 4)

    def counts(self) -> dict[str, int]:
        """Files per status."""
        return dict(Counter(f.status for f in self.files))

    def as_dict(self) -> dict:
        return {"job_id": self.id, "kb": self.kb, "status": self.status, "progress": self.progress,
                "elapsed_s": round(time.time() - self.created, 1), "files": [f.as_dict() for f in self.files]}

    @classmethod
    def from_record(cls, record: dict) -> "Job":
        """A job as the store has it (on a restart, or when it ran elsewhere)."""
        files = [JobFile(f["source"], f["status"], f["doc_id"], f["error"], f["chunks"],
                         stage="queued" if f["status"] == "pending" else "done") for f in record["files"]]
        return cls(record["id"], record["kb"], files, record["status"], record["created"])


class _JobProgress(SilentProgress):
    """Ingest progress callbacks written onto a Job's files (``order``: the job's file number of each file
    handed to ingest, which on a resumed job is only the files left), each outcome also into the store."""

    def __init__(self, job: Job, order: list[int], store: JobStore):
        self.job, self.order, self.store, self.current = job, order, store, 0

    def file_started(self, source, index, total):
        self.current = self.order[index]
        entry = self.job.files[self.current]
        entry.started = entry.started or time.time()
        if entry.stage == "queued":
            entry.stage = "parsing"

    def pages_read(self, source, index, done, total, ocr):
        entry = self.job.files[self.order[index]]
        entry.started = entry.started or time.time()
        entry.pages_done, entry.pages_total = done, total
        if entry.stage in ("queued", "parsing", "ocr"):
            entry.stage = "ocr" if ocr else "parsing"

    def chunks_planned(self, source, count):
        entry = self.job.files[self.current]
        entry.stage, entry.chunks_total, entry.chunks_done, entry.embed_started = "embedding", count, 0, time.time()

    def chunks_done(self, count):
        entry = self.job.files[self.current]
        entry.chunks_done += count
        if entry.chunks_done >= entry.chunks_total:
            entry.stage = "writing"  # the keyword index and the commit point come after the vectors

    def file_done(self, outcome):
        entry = self.job.files[self.current]
        entry.status, entry.doc_id, entry.error, entry.chunks = (outcome.status, outcome.doc_id, outcome.error,
                                                                 outcome.chunks)
        entry.stage, entry.finished = "done", time.time()
        entry.started = entry.started or entry.finished
        self.store.file_done(self.job.id, self.current, outcome.status, outcome.doc_id, outcome.error, outcome.chunks)
        log.info("kb=%s %s: %s%s", self.job.kb, outcome.source, outcome.status,
                 f" ({outcome.error})" if outcome.error else "")


class JobManager:
    def __init__(self, ingest: IngestFn, store: JobStore, uploads_dir: Path, keep_s: float = 7 * 86400):
        self._ingest, self._store, self._uploads, self._keep_s = ingest, store, uploads_dir, keep_s
        self._live: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    def submit(self, kb_name: str, files: list[tuple[Path, str]], on_done: Callable[[Job], None] | None = None) -> Job:
        """Recorded on disk before it returns: the job survives a crash from here on."""
        job = Job(uuid.uuid4().hex, kb_name, [JobFile(source) for _, source in files])
        self._store.create(job.id, kb_name, files, job.created)
        self._start(job, [(path, source, i) for i, (path, source) in enumerate(files)], on_done)
        return job

    def resume(self) -> list[Job]:
        """Start again every job a stopped process left running: its files not yet done are ingested."""
        resumed = []
        for job_id in reversed(self._store.ids("running", limit=100_000)):  # oldest first
            record = self._store.get(job_id)
            job = Job.from_record(record)
            left = [(Path(f["path"]), f["source"], f["idx"]) for f in record["files"] if f["status"] == "pending"]
            log.info("resuming ingest job %s (%d of %d files left)", job.id, len(left), len(job.files))
            self._start(job, left, None)
            resumed.append(job)
        self.prune()
        return resumed

    def _start(self, job: Job, files: list[tuple[Path, str, int]], on_done) -> None:
        with self._lock:
            self._live[job.id] = job
        self._pool.submit(self._run, job, files, on_done)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            live = self._live.get(job_id)
        if live is not None:
            return live
        record = self._store.get(job_id)
        return Job.from_record(record) if record else None

    def recent(self, limit: int = 50) -> list[Job]:
        return [job for job in (self.get(i) for i in self._store.ids(limit=limit)) if job]

    def cancel(self, job_id: str) -> Job | None:
        """Files not started yet end as cancelled; the one being embedded is finished first."""
        job = self.get(job_id)
        if job is not None and job.status == "running":
            job.cancel_requested = True
        return job

    def _run(self, job: Job, files: list[tuple[Path, str, int]], on_done=None) -> None:
        progress = _JobProgress(job, [i for _, _, i in files], self._store)
        try:
            self._ingest(job.kb, [(path, source) for path, source, _ in files], progress,
                         lambda: job.cancel_requested)
        except Exception as exc:  # the store itself failed: every unfinished file says why
            log.error("ingest job %s failed: %s", job.id, exc)
            for i, entry in enumerate(job.files):
                if entry.status == "pending":
                    entry.status, entry.error = "failed", f"the knowledge-base store failed: {exc}"
                    entry.stage = "done"
                    self._store.file_done(job.id, i, entry.status, None, entry.error, 0)
        finally:
            job.status = "cancelled" if job.cancel_requested else "done"
            self._store.finish(job.id, job.status)
            with self._lock:  # finished jobs stay in memory a while: their stages and times are not stored
                finished = [j for j in self._live.values() if j.status != "running"]
                for old in sorted(finished, key=lambda j: j.created)[:-_KEEP_IN_MEMORY]:
                    self._live.pop(old.id, None)
            if on_done is not None:
                on_done(job)

    def prune(self) -> int:
        """Forget jobs finished longer ago than the retention, and delete their uploaded copies."""
        pruned = self._store.prune(time.time() - self._keep_s)
        for record in pruned:
            for f in record["files"]:
                path = Path(f["path"])
                if path.is_relative_to(self._uploads):  # only our own copies, never a user's files
                    path.unlink(missing_ok=True)
        return len(pruned)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
