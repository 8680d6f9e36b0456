"""Background ingestion jobs for the API and the UI: one worker (embedding saturates the CPU)."""

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ingest import SilentProgress

log = logging.getLogger("kb.jobs")
_KEEP_FINISHED = 200

# (knowledge-base name, files, progress) -> ingest.IngestStats
IngestFn = Callable[[str, list[tuple[Path, str]], object], object]


@dataclass
class JobFile:
    source: str
    status: str = "pending"  # pending | indexed | duplicate | failed
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
    status: str = "running"  # running | done
    created: float = field(default_factory=time.time)

    @property
    def progress(self) -> float:
        if self.status == "done":
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


class _JobProgress(SilentProgress):
    """Ingest progress callbacks written onto a Job's files."""

    def __init__(self, job: Job):
        self.job, self.current = job, 0

    def file_started(self, source, index, total):
        self.current = index
        entry = self.job.files[index]
        entry.started = entry.started or time.time()
        if entry.stage == "queued":
            entry.stage = "parsing"

    def pages_read(self, source, index, done, total, ocr):
        entry = self.job.files[index]
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
        log.info("kb=%s %s: %s%s", self.job.kb, outcome.source, outcome.status,
                 f" ({outcome.error})" if outcome.error else "")


class JobManager:
    def __init__(self, ingest: IngestFn):
        self._ingest = ingest
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    def submit(self, kb_name: str, files: list[tuple[Path, str]], on_done: Callable[[Job], None] | None = None) -> Job:
        job = Job(uuid.uuid4().hex, kb_name, [JobFile(source) for _, source in files])
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job, files, on_done)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, files: list[tuple[Path, str]], on_done=None) -> None:
        try:
            self._ingest(job.kb, files, _JobProgress(job))
        except Exception as exc:  # the store itself failed: every unfinished file says why
            log.error("ingest job %s failed: %s", job.id, exc)
            for entry in job.files:
                if entry.status == "pending":
                    entry.status, entry.error = "failed", f"the knowledge-base store failed: {exc}"
                    entry.stage = "done"
        finally:
            job.status = "done"
            if on_done is not None:
                on_done(job)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status == "done"]
        for job in sorted(finished, key=lambda j: j.created)[:-_KEEP_FINISHED]:
            self._jobs.pop(job.id, None)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
