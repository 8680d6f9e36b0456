"""Knowledge bases and their documents: list, create, drop, upload and ingest, delete.

Every front door calls these; none of them touches the store or the ingest pipeline itself.
"""

import contextlib
import logging
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from app.operations import local_files, uploads
from app.operations.disk import DiskSpace
from app.operations.errors import DiskFull, FileTooLarge, NotFound, Unavailable, UnsupportedFile
from app.operations.job_store import STORE_ERRORS
from app.operations.job_store_pg import open_job_store
from app.operations.job_writes import JobWrites
from app.operations.jobs import Job, JobManager
from app.operations.patience import Patience
from app.operations.sources import KeepOriginals, OriginalFiles
from app.services import Services
from retrieval import is_disk_full

log = logging.getLogger("kb.knowledge")


class KnowledgeService:
    def __init__(self, services: Services, run_jobs: bool | None = None):
        """``run_jobs``: run ingestion jobs in this process. Default: yes on one machine, no when a
        queue is configured (then ``kb worker`` processes run them)."""
        self.services = services
        s = services.settings
        run_here = s.queue_url is None if run_jobs is None else run_jobs
        self.patience = Patience(give_up_s=s.store_wait_s)
        self.jobs = JobManager(
            self.ingest,
            open_job_store(s.queue_url, Path(s.data_dir)),
            services.uploads_dir,
            keep_s=s.job_retention_hours * 3600,
            run_here=run_here,
            lease_s=s.job_lease_s,
            patience=self.patience,
        )
        self.originals = OriginalFiles(services.shared_dir / "files")
        self.disk = DiskSpace([Path(s.data_dir), services.shared_dir], s.min_free_mb)

    @property
    def default_kb(self) -> str:
        return self.services.settings.default_kb

    # --- knowledge bases -----------------------------------------------------------------------
    def list_kbs(self):
        """[retrieval.KBInfo] with document and chunk counts."""
        return self.services.store.list()

    def create(self, name: str):
        return self.services.store.create(name)

    def exists(self, name: str) -> bool:
        return self.services.store.exists(name)

    def reembed(self, name: str, on_progress=None):
        """Embed every passage of ``name`` again with the configured model (``retrieval.
        ReembedResult``); a run cut short resumes where it stopped."""
        return self.services.store.reembed(name, on_progress)

    def drop(self, name: str) -> None:
        kb_id = self.open(name).id
        self.services.store.delete(name)
        self.originals.drop(kb_id)

    def store_reachable(self) -> bool:
        return _reachable("knowledge-base store", self.services.store.ping)

    def queue_reachable(self) -> bool:
        """The job store (SQLite on one machine, the shared queue with several)."""
        return _reachable("job store", self.jobs.store.ping)

    def open(self, name: str, create: bool = False):
        """The knowledge base (``retrieval.KBNotFound`` when it does not exist and ``create`` is
        off)."""
        return self.services.store.get(name, create=create)

    # --- documents -----------------------------------------------------------------------------
    def documents(self, kb_name: str):
        return self.open(kb_name).documents()

    def find_document(self, kb_name: str, doc_id_prefix: str):
        """The one document whose id starts with ``doc_id_prefix``; NotFound when none or several
        match."""
        matches = [
            r
            for r in self.documents(kb_name)
            if doc_id_prefix and r.doc_id.startswith(doc_id_prefix)
        ]
        if len(matches) != 1:
            raise NotFound(
                f"no document matches '{doc_id_prefix}'"
                if not matches
                else f"'{doc_id_prefix}' matches {len(matches)} documents"
            )
        return matches[0]

    def delete_document(self, kb_name: str, doc_id: str) -> None:
        kb = self.open(kb_name)
        record = kb.document(doc_id)
        if record is None or not kb.delete_document(doc_id):
            raise NotFound(f"document '{doc_id}' is not in knowledge base '{kb_name}'")
        self.originals.remove(kb.id, doc_id, record.source)

    # --- adding files --------------------------------------------------------------------------
    def ingest(self, kb_name: str, files: list[tuple[Path, str]], progress=None, should_stop=None):
        """Ingest (path, name shown to users) pairs now, creating the knowledge base if needed.
        Never raises for a bad file: each gets an outcome. Returns ``ingest.IngestStats``."""
        from ingest import SilentProgress, ingest_files

        progress = progress or SilentProgress()
        self.disk.keep_reserve()
        kb = JobWrites.open(
            self.services.store, kb_name, self.disk, self.patience, progress, should_stop
        )
        keeping = KeepOriginals(self.originals, kb.id, files, progress, writes=kb)
        return ingest_files(kb, files, self.services.parser, keeping, should_stop)

    def submit(self, kb_name: str, files: list[tuple[Path, str]]) -> Job:
        """Ingest in the background; the job reports progress per file and per chunk."""
        return self.submit_kind(kb_name, files, "ingest")

    def submit_kind(self, kb_name: str, files: list[tuple[Path, str]], kind: str) -> Job:
        with _job_store_call(self.disk):
            return self.jobs.submit(kb_name, files, kind)

    def job(self, job_id: str) -> Job:
        with _job_store_call():
            job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(f"no ingestion job '{job_id}'")
        return job

    def recent_jobs(self, limit: int = 50) -> list[Job]:
        with _job_store_call():
            return self.jobs.recent(limit)

    def cancel_job(self, job_id: str) -> Job:
        self.job(job_id)
        with _job_store_call():
            job = self.jobs.cancel(job_id)
        if job is None:  # pruned between the two reads
            raise NotFound(f"no ingestion job '{job_id}'")
        return job

    def resume_jobs(self) -> list[Job]:
        """On start: finish what a stopped server had accepted (with a queue, the workers do)."""
        return self.jobs.resume()

    def run_worker(self) -> None:
        """``kb worker``: run queued ingestion jobs until :meth:`shutdown`."""
        self.jobs.run_forever()

    def save_uploads(
        self, kb_name: str, files: Iterable[tuple[str, BinaryIO]]
    ) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
        """Saves readable uploads under the data dir: (saved (path, name), rejected (name, reason)).
        A file of a type that cannot be read, or over the size limit, is rejected; the rest are
        saved."""
        from ingest import unsupported_reason

        kb = self.open(kb_name)
        folder = self.services.uploads_dir / kb.id / uuid.uuid4().hex[:12]
        limit = self.services.settings.max_upload_mb * 2**20
        readable, rejected = [], []
        for name, stream in files:
            reason = unsupported_reason(name or "")
            if reason:
                rejected.append((uploads.safe_filename(name or "upload"), reason))
            else:
                readable.append((name, stream))
        saved, too_large = uploads.save_uploads(folder, readable, limit, self.disk)
        return saved, rejected + too_large

    def submit_uploads(self, kb_name: str, saved: list[tuple[Path, str]]) -> Job:
        """A job for saved uploads; if it cannot be recorded, the copies are removed (nothing
        accepted)."""
        try:
            return self.submit(kb_name, saved)
        except (Unavailable, DiskFull):
            uploads.discard(saved)
            raise

    def upload(
        self, kb_name: str, files: list[tuple[str, BinaryIO]]
    ) -> tuple[Job | None, list[tuple[str, str]]]:
        """The one rule for a batch, at every door: each file is judged alone. A file of a type that
        cannot be read or over the size limit is refused with its reason, the others go into one
        durable job (where a file that then fails to parse fails alone). Returns (the job, or None
        when no file was accepted; refused (name, reason)); ``refused_batch`` is the error for the
        None case."""
        saved, refused = self.save_uploads(kb_name, files)
        return (self.submit_uploads(kb_name, saved) if saved else None), refused

    def submit_local(
        self, kb_name: str, paths: list[str]
    ) -> tuple[Job | None, list[tuple[str, str]]]:
        """Files and folders on this machine, by absolute path, into one durable job (the knowledge
        base is created if missing); each file judged alone as in :meth:`upload`. Returns (the job,
        or None when every file was refused; refused (name, reason)). InvalidRequest when a path is
        missing or unreadable."""
        files, refused = local_files.local_batch(paths)
        if not files:
            return None, refused
        self.open(kb_name, create=True)
        return self.submit(kb_name, files), refused

    def seed_default(self, seed_dir: Path, marker: Path) -> Job | None:
        """First run: build the default knowledge base from ``seed_dir`` (the product's own guide).

        ``marker`` is written once the job is recorded (a recorded job is finished even across a
        restart), so a user's later deletions are respected."""
        from ingest import expand_paths, is_supported

        if not seed_dir.is_dir() or marker.exists():
            return None
        files = [(p, p.name) for p in expand_paths([seed_dir]) if is_supported(p)]
        if not files:
            return None
        self.open(self.default_kb, create=True)
        job = self.submit(self.default_kb, files)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        log.info(
            "first run: building knowledge base '%s' from %s (job %s)",
            self.default_kb,
            seed_dir,
            job.id,
        )
        return job

    def shutdown(self) -> None:
        self.jobs.shutdown()


def refused_batch(refused: list[tuple[str, str]]) -> Exception:
    """The error for a batch none of whose files could be accepted."""
    detail = "; ".join(f"'{name}': {reason}" for name, reason in refused) or "no files"
    too_large = any("upload limit" in reason for _, reason in refused)
    return FileTooLarge(detail) if too_large else UnsupportedFile(detail)


def indexed_totals(records) -> tuple[int, int]:
    """(indexed documents, their chunks) among document records."""
    indexed = [r for r in records if r.status == "indexed"]
    return len(indexed), sum(r.chunks for r in indexed)


def _reachable(what: str, ping) -> bool:
    try:
        ping()
        return True
    except Exception as exc:  # noqa: BLE001  any failure means the same to a health probe
        log.warning("%s unreachable: %s", what, exc)
        return False


@contextlib.contextmanager
def _job_store_call(disk: DiskSpace | None = None):
    """The job store (the shared queue) down: a 503 naming it, not a 500; its disk full: a 507."""
    try:
        yield
    except STORE_ERRORS as exc:
        if disk is not None and is_disk_full(exc):
            raise DiskFull(f"{disk.reason()} (the ingestion job could not be recorded)") from exc
        log.warning("job store unreachable: %s", exc)
        raise Unavailable(
            f"the ingestion job queue is unreachable ({type(exc).__name__}); try again shortly"
        ) from exc
