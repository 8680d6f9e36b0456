"""Background ingestion jobs: recorded in a durable ``JobStore`` before they are accepted, run by a
worker loop that claims them from it (one job at a time per worker: embedding saturates the CPU).

On one machine the server runs the worker loop in a thread over SQLite; with a queue URL, API
replicas only record jobs and ``kb worker`` processes run them (see ``job_store``). Progress (stage,
pages, chunks) is written to the store about once a second, so any replica can report any job; the
process running a job also keeps it in memory, where it is fresher still."""

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from app.operations.job_model import Job, JobFile, file_size
from app.operations.job_progress import JobProgress, Lease
from app.operations.job_store import JobStore
from app.operations.job_store_pg import queue_unreachable
from app.operations.patience import Patience
from ingest import Interrupted

log = logging.getLogger("kb.jobs")
_KEEP_IN_MEMORY = 200  # finished jobs whose full progress (stages, times) stays available here

# (knowledge-base name, files, progress, should_stop) -> ingest.IngestStats
IngestFn = Callable[[str, list[tuple[Path, str]], object, Callable[[], bool]], object]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class JobManager:
    """Records jobs and, when ``run_here``, runs a worker loop that claims them (a thread in a
    server, the main loop of ``kb worker``)."""

    def __init__(
        self,
        ingest: IngestFn,
        store: JobStore,
        uploads_dir: Path,
        keep_s: float = 7 * 86400,
        *,
        run_here: bool = True,
        worker_id: str | None = None,
        lease_s: float = 60.0,
        poll_s: float = 0.5,
        patience: Patience | None = None,
    ):
        self._store, self._uploads, self._keep_s = store, uploads_dir, keep_s
        self._runners: dict[str, IngestFn] = {"ingest": ingest}
        self.run_here, self.worker_id = run_here, worker_id or default_worker_id()
        self._lease_s, self._poll_s = lease_s, poll_s
        self._patience = patience or Patience()  # how long a job waits out a store that is away
        self._live: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._wake, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0

    @property
    def store(self) -> JobStore:
        return self._store

    def add_kind(self, kind: str, runner: IngestFn) -> None:
        """Jobs of ``kind`` are run by ``runner``, called like the ingest function: (knowledge
        base, [(path, source)], progress, should_stop), reporting through the same progress."""
        self._runners[kind] = runner

    def submit(self, kb_name: str, files: list[tuple[Path, str]], kind: str = "ingest") -> Job:
        """Recorded durably before it returns: the job survives a crash from here on."""
        if kind not in self._runners:
            raise ValueError(f"unknown job kind {kind!r}")
        job = Job(
            uuid.uuid4().hex,
            kb_name,
            [JobFile(source, size=file_size(path)) for path, source in files],
            kind=kind,
        )
        self._store.create(job.id, kb_name, files, job.created, kind)
        if self.run_here:
            with self._lock:
                self._live[job.id] = job
            self.start()
            self._wake.set()
        return job

    def resume(self) -> list[Job]:
        """Server start, one machine: the leases a stopped server held are dropped and its running
        jobs taken up again (files already done stay done). With a queue, workers do this instead.
        """
        running = [
            Job.from_record(r)
            for r in map(self._store.get, self._store.ids("running", 100_000))
            if r
        ]
        if self.run_here:
            self._store.release_all()
            for job in running:
                left = sum(f.status == "pending" for f in job.files)
                log.info(
                    "resuming ingest job %s (%d of %d files left)", job.id, left, len(job.files)
                )
            self.start()
        self.prune()
        return running

    def start(self) -> None:
        """The worker loop in a background thread (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self.run_forever, name="ingest-worker", daemon=True
                )
                self._thread.start()

    def run_forever(self) -> None:
        """Claim and run jobs until :meth:`shutdown`."""
        while not self._stopping.is_set():
            try:
                record = self._store.claim(self.worker_id, self._lease_s)
            except Exception as exc:  # noqa: BLE001  the queue is down: keep trying, say so
                log.warning("job store unreachable: %s", exc)
                self._stopping.wait(max(self._poll_s, 2.0))
                continue
            if record is not None:
                try:
                    self._run(record)
                except Exception:  # a job gone wrong must not take the worker loop with it
                    log.exception("ingest job %s: worker error", record.get("id"))
            else:
                self._wake.wait(self._poll_s)
                self._wake.clear()
                if time.monotonic() - self._pruned_at > 3600:
                    self.prune()

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
        """Files not started yet end as cancelled; the one being embedded is finished first.
        Whichever process runs the job learns of it within a third of the lease."""
        job = self.get(job_id)
        if job is not None and job.status == "running":
            self._store.request_cancel(job_id)
            job.cancel_requested = True
        return job

    def _run(self, record: dict) -> None:
        with self._lock:
            job = self._live.setdefault(record["id"], Job.from_record(record))
        job.cancel_requested = job.cancel_requested or bool(record["cancel_requested"])
        left = [
            (Path(f["path"]), f["source"], f["idx"])
            for f in record["files"]
            if f["status"] == "pending"
        ]
        for _, _, idx in left:  # a dead worker's stage and counts start over
            job.files[idx] = JobFile(job.files[idx].source, size=job.files[idx].size)
        lease = Lease(self._store, job, self.worker_id, self._lease_s)

        def should_stop() -> bool:
            return job.cancel_requested or lease.lost or self._stopping.is_set()

        progress = JobProgress(
            job,
            [i for _, _, i in left],
            self._store,
            self.worker_id,
            patience=self._patience,
            should_stop=should_stop,
        )
        runner = self._runners.get(job.kind)
        try:
            if runner is None:  # recorded by a newer release; another worker may know it
                raise RuntimeError(f"this worker cannot run jobs of kind {job.kind!r}")
            runner(job.kb, [(path, source) for path, source, _ in left], progress, should_stop)
        except Interrupted:  # stopped while a store was away: left for the next worker
            log.info("ingest job %s stopped while waiting for a store", job.id)
            if job.cancel_requested:
                self._end_pending(job, "cancelled", "cancelled before it was stored")
        except Exception as exc:  # the store itself failed: every unfinished file says why
            log.error("%s job %s failed: %s", job.kind, job.id, exc)
            self._end_pending(job, "failed", f"the knowledge-base store failed: {exc}")
        finally:
            lease.stop()
            self._settle(job, lease.lost)

    def _end_pending(self, job: Job, status: str, reason: str) -> None:
        for i, entry in enumerate(job.files):
            if entry.status == "pending":
                entry.status, entry.error, entry.stage = status, reason, "done"
                self._patiently(
                    functools.partial(
                        self._store.file_done, job.id, i, self.worker_id, status, None, reason, 0
                    )
                )

    def _patiently(self, write: Callable[[], object]) -> None:
        """A write to the job store, waiting out a queue restart; given up with a log line (the
        job is then taken up again once its lease runs out)."""
        try:
            self._patience.call(
                "job queue", write, queue_unreachable, should_stop=self._stopping.is_set
            )
        except Exception as exc:  # noqa: BLE001  the store still has the job running
            log.error("job store write failed: %s", exc)

    def _settle(self, job: Job, lease_lost: bool) -> None:
        """Finished, cancelled, or (stopped by a shutdown) given back for the next worker."""
        if not lease_lost:  # a lost job is the new holder's to settle
            if job.cancel_requested or all(f.status != "pending" for f in job.files):
                job.status = "cancelled" if job.cancel_requested else "done"
                self._patiently(lambda: self._store.finish(job.id, self.worker_id, job.status))
            else:
                self._patiently(lambda: self._store.release(job.id, self.worker_id))
        # finished jobs stay in memory a while: their stages and times are fresher here
        with self._lock:
            if job.status == "running":
                self._live.pop(job.id, None)
            finished = [j for j in self._live.values() if j.status != "running"]
            for old in sorted(finished, key=lambda j: j.created)[:-_KEEP_IN_MEMORY]:
                self._live.pop(old.id, None)

    def prune(self) -> int:
        """Forget jobs finished longer ago than the retention, and delete their uploaded copies."""
        self._pruned_at = time.monotonic()
        try:
            pruned = self._store.prune(time.time() - self._keep_s)
        except Exception as exc:  # noqa: BLE001  pruning waits for the next round
            log.warning("job store unreachable, nothing pruned: %s", exc)
            return 0
        for record in pruned:
            for f in record["files"]:
                path = Path(f["path"])
                if path.is_relative_to(self._uploads):  # only our own copies, never a user's files
                    path.unlink(missing_ok=True)
        return len(pruned)

    def shutdown(self) -> None:
        """Stop claiming; a job being run stops after its current file and is given back."""
        self._stopping.set()
        self._wake.set()
