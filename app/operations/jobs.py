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


@dataclass
class Job:
    id: str
    kb: str
    files: list[JobFile]
    status: str = "running"  # running | done
    created: float = field(default_factory=time.time)
    _chunk_total: int = 0
    _chunk_done: int = 0
    _current: int = 0

    @property
    def progress(self) -> float:
        total = len(self.files) or 1
        finished = sum(f.status != "pending" for f in self.files)
        partial = (self._chunk_done / self._chunk_total) if self._chunk_total and finished < len(self.files) else 0.0
        return 1.0 if self.status == "done" else round(min(0.999, (finished + partial) / total), 4)

    def counts(self) -> dict[str, int]:
        """Files per status."""
        return dict(Counter(f.status for f in self.files))

    def as_dict(self) -> dict:
        return {"job_id": self.id, "kb": self.kb, "status": self.status, "progress": self.progress,
                "files": [{"source": f.source, "status": f.status, "doc_id": f.doc_id, "error": f.error,
                           "chunks": f.chunks} for f in self.files]}


class _JobProgress(SilentProgress):
    """Ingest progress callbacks written onto a Job."""

    def __init__(self, job: Job):
        self.job = job

    def file_started(self, source, index, total):
        self.job._current, self.job._chunk_total, self.job._chunk_done = index, 0, 0

    def chunks_planned(self, source, count):
        self.job._chunk_total = count

    def chunks_done(self, count):
        self.job._chunk_done += count

    def file_done(self, outcome):
        entry = self.job.files[self.job._current]
        entry.status, entry.doc_id, entry.error, entry.chunks = (outcome.status, outcome.doc_id, outcome.error,
                                                                 outcome.chunks)
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
