"""What a worker does while it runs a job: progress written onto the job and into the store
(:class:`JobProgress`), and the lease on the job kept alive (:class:`Lease`)."""

import logging
import threading
import time

from app.operations.job_store import PROGRESS_FIELDS, JobStore
from ingest import SilentProgress

log = logging.getLogger("kb.jobs")


class JobProgress(SilentProgress):
    """Ingest progress callbacks written onto a ``jobs.Job``'s files (``order``: the job's file
    number of each file handed to ingest, which on a resumed job is only the files left), and into
    the store: each outcome at once, the progress about once a second."""

    def __init__(
        self, job, order: list[int], store: JobStore, worker: str | None, every_s: float = 1.0
    ):
        self.job, self.order, self.store, self.worker, self.current = job, order, store, worker, 0
        self._every_s, self._pushed = every_s, 0.0

    def _push(self, idx: int, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._pushed >= self._every_s:
            self._pushed = now
            entry = self.job.files[idx]
            try:
                self.store.progress(
                    self.job.id, idx, {k: getattr(entry, k) for k in PROGRESS_FIELDS}
                )
            except Exception as exc:  # noqa: BLE001  progress is best effort; outcomes are not
                log.warning("job %s: progress not recorded: %s", self.job.id, exc)

    def file_started(self, source, index, total):
        self.current = self.order[index]
        entry = self.job.files[self.current]
        entry.started = entry.started or time.time()
        if entry.stage == "queued":
            entry.stage = "parsing"
        self._push(self.current, force=True)

    def pages_read(self, source, index, done, total, ocr):
        idx = self.order[index]
        entry = self.job.files[idx]
        entry.started = entry.started or time.time()
        entry.pages_done, entry.pages_total = done, total
        if entry.stage in ("queued", "parsing", "ocr"):
            entry.stage = "ocr" if ocr else "parsing"
        self._push(idx)

    def chunks_planned(self, source, count):
        entry = self.job.files[self.current]
        entry.stage, entry.chunks_total, entry.chunks_done, entry.embed_started = (
            "embedding",
            count,
            0,
            time.time(),
        )
        self._push(self.current, force=True)

    def chunks_done(self, count):
        entry = self.job.files[self.current]
        entry.chunks_done += count
        if entry.chunks_done >= entry.chunks_total:
            entry.stage = "writing"  # the keyword index and the commit point come after the vectors
        self._push(self.current)

    def file_done(self, outcome):
        entry = self.job.files[self.current]
        if outcome.status == "cancelled" and not self.job.cancel_requested:
            # stopped by a shutdown, not by the user: left for the next worker
            entry.stage = "queued"
            return
        entry.status, entry.doc_id, entry.error, entry.chunks = (
            outcome.status,
            outcome.doc_id,
            outcome.error,
            outcome.chunks,
        )
        entry.stage, entry.finished = "done", time.time()
        entry.started = entry.started or entry.finished
        self.store.file_done(
            self.job.id,
            self.current,
            self.worker,
            outcome.status,
            outcome.doc_id,
            outcome.error,
            outcome.chunks,
        )
        log.info(
            "kb=%s %s: %s%s",
            self.job.kb,
            outcome.source,
            outcome.status,
            f" ({outcome.error})" if outcome.error else "",
        )


class Lease:
    """Renews a worker's claim on a job every third of the lease while it runs; learns of a cancel
    requested through another process on the way."""

    def __init__(self, store: JobStore, job, worker: str, lease_s: float):
        self.store, self.job, self.worker, self.lease_s = store, job, worker, lease_s
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{job.id[:8]}", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._done.wait(self.lease_s / 3):
            try:
                ours, cancel = self.store.renew(self.job.id, self.worker, self.lease_s)
            except Exception as exc:  # noqa: BLE001  a store hiccup: try again next round
                log.warning("job %s: lease not renewed: %s", self.job.id, exc)
                continue
            self.job.cancel_requested = self.job.cancel_requested or cancel
            if not ours:
                log.warning(
                    "job %s: lease lost to another worker; stopping after this file", self.job.id
                )
                self.lost = True
                return

    def stop(self) -> None:
        self._done.set()
        self._thread.join(5)
