"""Re-embedding and archive imports as durable jobs: recorded in the job store like an upload, run
by whichever worker claims them (the server's own thread, or `kb worker` with a queue), reporting
through the same progress, resumed after a kill. Export is quick and read-only, so it is not one."""

import functools
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO

from app.operations import uploads
from app.operations.archives import ArchiveService
from app.operations.errors import InvalidRequest, user_message
from app.operations.job_model import Job
from app.operations.knowledge import KnowledgeService
from ingest import FileOutcome, Interrupted
from retrieval import Archive, KBExists, KBNotFound


class KnowledgeBaseJobs:
    def __init__(self, knowledge: KnowledgeService, archives: ArchiveService):
        self.knowledge, self.archives = knowledge, archives
        jobs = knowledge.jobs
        jobs.add_kind("reembed", self._reembed)
        jobs.add_kind("import", functools.partial(self._import, replace=False))
        jobs.add_kind("import-replace", functools.partial(self._import, replace=True))

    # --- submitting ----------------------------------------------------------------------------
    def submit_reembed(self, name: str) -> Job:
        """A job that embeds every passage of ``name`` again with the configured model."""
        if not self.knowledge.services.store.exists(name):
            raise KBNotFound(f"knowledge base '{name}' does not exist")
        return self.knowledge.jobs.submit(name, [(Path(), f"{name}: every passage")], "reembed")

    def submit_import(
        self, filename: str, stream: BinaryIO, name: str | None = None, replace: bool = False
    ) -> Job:
        """Save an uploaded archive, verify it whole (``retrieval.ArchiveError`` names what is
        wrong, nothing kept), refuse an existing name without ``replace`` (``KBExists``), then
        record the job that imports it."""
        folder = self.knowledge.services.uploads_dir / "archives" / uuid.uuid4().hex[:12]
        limit = self.knowledge.services.settings.max_upload_mb * 2**20
        saved, too_large = uploads.save_uploads(
            folder, [(filename or "upload.kb.zip", stream)], limit, self.knowledge.disk
        )
        if too_large:
            raise InvalidRequest(f"{too_large[0][0]}: {too_large[0][1]}")
        path, shown = saved[0]
        try:
            with Archive(path) as archive:
                target = name or archive.name
            if self.knowledge.services.store.exists(target) and not replace:
                raise KBExists(
                    f"knowledge base '{target}' already exists: import under another name, or "
                    "replace it"
                )
            kind = "import-replace" if replace else "import"
            return self.knowledge.submit_kind(target, [(path, shown)], kind)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    # --- running (called by the job worker) ----------------------------------------------------
    def _reembed(self, kb: str, files, progress, should_stop) -> None:
        source = files[0][1]
        progress.file_started(source, 0, 1)
        report = _counting(progress, source, should_stop)
        try:
            result = self.knowledge.reembed(kb, on_progress=report)
        except Interrupted:
            raise
        except Exception as exc:  # noqa: BLE001  the job says why; what is stored is untouched
            progress.file_done(FileOutcome(source, "failed", error=user_message(exc)))
            return
        progress.file_done(FileOutcome(source, "indexed", chunks=result.passages))

    def _import(self, kb: str, files, progress, should_stop, replace: bool) -> None:
        path, source = files[0]
        progress.file_started(source, 0, 1)
        try:
            summary = self.archives.import_file(
                path, kb, replace, _counting(progress, source, should_stop)
            )
        except Interrupted:
            raise
        except Exception as exc:  # noqa: BLE001  a failed import leaves nothing behind
            progress.file_done(FileOutcome(source, "failed", error=user_message(exc)))
            return
        progress.file_done(FileOutcome(source, "indexed", chunks=summary.passages))


def _counting(progress, source: str, should_stop):
    """``on_progress(done, total)`` for the store's long operations, as a job file's chunk counts;
    a stop requested (cancel, shutdown) interrupts between batches, and the job resumes later."""
    seen = {"done": 0, "planned": False}

    def report(done: int, total: int) -> None:
        if not seen["planned"]:
            progress.chunks_planned(source, total)
            seen["planned"] = True
        progress.chunks_done(done - seen["done"])
        seen["done"] = done
        if should_stop():
            raise Interrupted("stopped between batches")

    return report
