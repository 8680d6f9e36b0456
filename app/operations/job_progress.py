"""What a worker does while it runs a job: progress written onto the job and into the store
(:class:`JobProgress`), and the lease on the job kept alive (:class:`Lease`)."""

import logging
import threading
import time
from collections.abc import Callable

from app.operations.job_store import PROGRESS_FIELDS, JobStore
from app.operations.job_store_pg import queue_unreachable
from app.operations.patience import Patience
from ingest import SilentProgress

log = logging.getLogger("kb.jobs")
WAITING = "waiting for the store"  # the stage of a file while its store is away


class JobProgress(SilentProgress):
    """Ingest progress callbacks written onto a ``jobs.Job``'s files (``order``: the job's file
    number of each file handed to ingest, which on a resumed job is only the files left), and into
    the store: each outcome at once (waiting out a queue restart), the progress about once a
    second."""

    def __init__(
        self,
        job,
        order: list[int],
        store: JobStore,
        worker: str | None,
        every_s: float = 1.0,
        patience: Patience | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ):
        self.job, self.order, self.store, self.worker, self.current = job, order, store, worker, 0
        self._every_s, self._pushed = every_s, 0.0
        self._patience, self._should_stop = patience or Patience(), should_stop
        self._before_wait = "queued"

    def waiting_for_store(self, on: bool) -> None:
        """A store went away (``on``) or came back: the stage of the file at hand says so."""
        idx = self._at_hand()
        if idx is None:
            return
        entry = self.job.files[idx]
        if on and entry.stage != WAITING:
            self._before_wait, entry.stage = entry.stage, WAITING
        elif not on and entry.stage == WAITING:
            entry.stage = self._before_wait
        self._push(idx, force=True)

    def _at_hand(self) -> int | None:
        """The file being written, or (between files) the next one."""
        pending = [i for i in self.order if self.job.files[i].status == "pending"]
        return self.current if self.current in pending else (pending[0] if pending else None)

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
        if getattr(outcome, "note", None):
            entry.note = outcome.note
            note = {"note": outcome.note}
            self._record(lambda: self.store.progress(self.job.id, self.current, note))
        self._record(
            lambda: self.store.file_done(
                self.job.id,
                self.current,
                self.worker,
                outcome.status,
                outcome.doc_id,
                outcome.error,
                outcome.chunks,
            )
        )
        log.info(
            "kb=%s %s: %s%s",
            self.job.kb,
            outcome.source,
            outcome.status,
            f" ({outcome.error})" if outcome.error else "",
        )

    def _record(self, write: Callable[[], object]) -> None:
        """An outcome into the store, waiting out a queue restart. If the store stays away, the
        outcome lives on here; the job, not finished in the store, is taken up again later."""
        try:
            self._patience.call(
                "job queue",
                write,
                queue_unreachable,
                should_stop=self._should_stop,
                waiting=self.waiting_for_store,  # shown on the next file: the job waits on it
            )
        except Exception as exc:  # noqa: BLE001  the job goes on; its record catches up on resume
            log.error("job %s: outcome not recorded: %s", self.job.id, exc)


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
