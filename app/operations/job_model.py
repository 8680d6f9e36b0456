"""What an ingestion job is: its files, each with its status, stage and progress (``JobFile``), and
the job (``Job``), as the job store records them and every door shows them."""

import os
import time
from collections import Counter
from dataclasses import dataclass, field

from app.operations.job_store import PROGRESS_FIELDS


@dataclass
class JobFile:
    source: str
    status: str = "pending"  # pending | indexed | duplicate | failed | cancelled
    doc_id: str | None = None
    error: str | None = None
    chunks: int = 0
    # what is happening to it now: queued | parsing | ocr | embedding | writing | done, or
    # "waiting for the store" (a Chroma server or the job queue away; see job_writes)
    stage: str = "queued"
    pages_done: int = 0
    pages_total: int = 0
    chunks_done: int = 0
    chunks_total: int = 0
    started: float | None = None
    embed_started: float | None = None
    finished: float | None = None
    note: str | None = None  # a word on an indexed file (FileOutcome.note)
    size: int = 0  # bytes: the file's share of the job's progress (not stored: read from its path)

    def as_dict(self) -> dict:
        now = self.finished or time.time()
        elapsed = round(now - self.started, 1) if self.started else 0.0
        return {
            "source": self.source,
            "status": self.status,
            "doc_id": self.doc_id,
            "error": self.error,
            "chunks": self.chunks,
            "stage": self.stage,
            "pages_done": self.pages_done,
            "pages_total": self.pages_total,
            "chunks_done": self.chunks_done,
            "chunks_total": self.chunks_total,
            "elapsed_s": elapsed,
            "eta_s": self._eta(now),
            "note": self.note,
        }

    def done_share(self) -> float:
        """How much of this file is done, 0..1: reading its pages counts for the first tenth,
        embedding its chunks for the rest (where the time goes)."""
        if self.status != "pending":
            return 1.0
        if self.chunks_total:
            return _READ_SHARE + (1 - _READ_SHARE) * self.chunks_done / self.chunks_total
        if self.pages_total:
            return _READ_SHARE * self.pages_done / self.pages_total
        return 0.0

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
    kind: str = "ingest"  # ingest (files) | reembed | import | import-replace (one archive)

    @property
    def progress(self) -> float:
        if self.status != "running":
            return 1.0
        # each file weighs its bytes (known before it is read): a large book's chunks, not its
        # count of one, move the bar; a file whose size is unknown weighs the mean
        known = [f.size for f in self.files if f.size > 0]
        mean = sum(known) / len(known) if known else 1.0
        weights = [f.size if f.size > 0 else mean for f in self.files]
        done = sum(w * f.done_share() for f, w in zip(self.files, weights, strict=True))
        return round(min(0.999, done / (sum(weights) or 1.0)), 4)

    def counts(self) -> dict[str, int]:
        """Files per status."""
        return dict(Counter(f.status for f in self.files))

    def as_dict(self) -> dict:
        return {
            "job_id": self.id,
            "kb": self.kb,
            "kind": self.kind,
            "status": self.status,
            "progress": self.progress,
            "elapsed_s": round(time.time() - self.created, 1),
            "files": [f.as_dict() for f in self.files],
        }

    @classmethod
    def from_record(cls, record: dict) -> "Job":
        """A job as the store has it (on a restart, or when it ran elsewhere)."""
        files = [
            JobFile(
                f["source"],
                f["status"],
                f["doc_id"],
                f["error"],
                f["chunks"],
                **{k: f[k] for k in PROGRESS_FIELDS if f.get(k) is not None},
                size=file_size(f.get("path")),
            )
            for f in record["files"]
        ]
        for entry in files:
            if entry.status != "pending":
                entry.stage = "done"
        return cls(
            record["id"],
            record["kb"],
            files,
            record["status"],
            record["created"],
            bool(record.get("cancel_requested")),
            record.get("kind") or "ingest",
        )


_READ_SHARE = 0.1  # of a file's progress: reading its pages (the rest: embedding its chunks)


def file_size(path) -> int:
    """Bytes of an uploaded file still on disk (0: gone, or on another machine's disk)."""
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0
