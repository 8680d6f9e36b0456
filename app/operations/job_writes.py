"""The knowledge base as an ingestion job writes to it: what ``ingest.ingest_files`` calls, guarded
against the two faults a long job meets.

- The disk filling up: free space is checked before each batch of chunks is written; below the
  floor (or when any layer reports a full disk) the file fails with ``disk full: X MB free, needs Y
  MB`` and nothing of it stays (``retrieval`` rolls a failed write back; leftovers are removed
  again here once the reserve has made room). The job goes on to its next file.
- The store going away (a Chroma server killed or restarting): the call is retried, backing off,
  with the file's stage ``waiting for the store``; a file cut off mid-write is written again from
  its start once the store is back (its half-written attempt is removed first)."""

import logging
from collections.abc import Callable

from app.operations.disk import DiskSpace
from app.operations.errors import DiskFull
from app.operations.patience import Patience
from ingest import IngestError
from retrieval import is_disk_full, is_unreachable

log = logging.getLogger("kb.jobs")
STORE = "knowledge-base store"


class JobWrites:
    def __init__(
        self,
        kb,
        disk: DiskSpace,
        patience: Patience,
        progress=None,
        should_stop: Callable[[], bool] | None = None,
        received_at: float | None = None,
    ):
        self.kb, self.disk, self.patience = kb, disk, patience
        self.received_at = received_at  # the documents' "added" time: when the job was accepted
        self._waiting = getattr(progress, "waiting_for_store", None) or (lambda on: None)
        self._planned = getattr(progress, "chunks_planned", None) or (lambda source, count: None)
        self._should_stop = should_stop or (lambda: False)

    @classmethod
    def open(cls, store, kb_name: str, disk: DiskSpace, patience: Patience, progress, should_stop):
        """The knowledge base opened for writing (created if needed), waiting for the store. A
        job's progress carries the job, whose creation is when its files were received."""
        received_at = getattr(getattr(progress, "job", None), "created", None)
        writes = cls(None, disk, patience, progress, should_stop, received_at)
        writes.kb = writes.patiently(lambda: store.open_for_writing(kb_name, create=True))
        return writes

    def patiently(self, call, again=lambda: None):
        return self.patience.call(
            STORE,
            call,
            is_unreachable,
            should_stop=self._should_stop,
            waiting=self._waiting,
            again=again,
        )

    # --- what ingest_files reads ---------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.kb.id

    def is_indexed(self, doc_id: str) -> bool:
        return self.patiently(lambda: self.kb.is_indexed(doc_id))

    def document(self, doc_id: str):
        return self.patiently(lambda: self.kb.document(doc_id))

    def embedding_seconds(self) -> float:
        return self.kb.embedding_seconds()

    # --- what it writes ------------------------------------------------------------------------
    def record_failure(self, doc_id: str, source: str, reason: str) -> None:
        """Best kept in the registry too; on a full disk the job's outcome alone says it."""
        try:
            self.patiently(lambda: self.kb.record_failure(doc_id, source, reason))
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.disk.release_reserve()
            log.warning(
                "failure of %s not recorded in the registry: %s", source, self.disk.reason()
            )

    def add_document(
        self, doc_id: str, source: str, chunks, pages: int = 0, on_progress=None, outline=None
    ):
        """Whole or not at all; ``IngestError`` (a disk-full reason) when space runs out."""

        def batch_done(count: int) -> None:
            if on_progress:
                on_progress(count)
            self.disk.check_write()  # before the next batch, and before the commit point

        def attempt():
            self.disk.check_write()
            return self.kb.add_document(
                doc_id,
                source,
                chunks,
                pages,
                on_progress=batch_done,
                outline=outline,
                added_at=self.received_at,
            )

        try:
            return self.patiently(attempt, again=lambda: self._planned(source, len(chunks)))
        except Exception as exc:
            if not (isinstance(exc, DiskFull) or is_disk_full(exc)):
                raise
            raise IngestError(self.out_of_space(doc_id)) from exc

    def out_of_space(self, doc_id: str | None) -> str:
        """The reason a file failed for lack of space, once its leftovers are gone (the reserve
        given back first, so the rollback has room)."""
        self.disk.release_reserve()
        reason = self.disk.reason()
        if doc_id:
            try:
                self.kb.discard_unfinished(doc_id)
            except Exception as exc:  # noqa: BLE001  still hidden; removed by the next recovery
                log.warning("leftovers of %s not removed yet: %s", doc_id[:12], exc)
        return reason

    def remove(self, doc_id: str) -> None:
        """Take back a document indexed a moment ago (its original could not be kept)."""
        try:
            self.kb.delete_document(doc_id)
        except Exception as exc:  # noqa: BLE001  the next upload of the file indexes it again
            log.warning("document %s not removed: %s", doc_id[:12], exc)
