"""One knowledge base's rows in the keyword index, kept in step with its document registry (the
commit point): documents indexed through another process on the same Chroma server are added,
deleted ones removed, and an index emptied for a new tokenizer is refilled from the stored
chunks."""

import time
from collections.abc import Callable

from retrieval.keyword import KeywordIndex


class KeywordSync:
    """``every_s``: before a keyword read, the registry is compared at most this often (None: only
    when asked); the first read always compares."""

    def __init__(
        self,
        index: KeywordIndex,
        kb_id: str,
        registry,
        collection,
        index_text: Callable[[str, dict], str],
        every_s: float | None,
        lock,
    ):
        self._index, self._kb_id, self._registry, self._collection = (
            index,
            kb_id,
            registry,
            collection,
        )
        self._index_text, self._every_s = index_text, every_s
        self._lock = lock  # the knowledge base's write lock
        self._synced_at = 0.0
        # doc id -> revision of what the index holds: read once, then kept here
        self._docs: dict[str, int] | None = None

    def sync(self) -> tuple[int, int]:
        """(added or re-read, removed). The caller holds the knowledge base's write lock. A
        document whose registry revision differs from its rows' (a passage edited here by a process
        killed midway, or through another app instance) is read again from the stored chunks."""
        indexed = self._registry.indexed_revisions()
        if self._docs is None:  # a full scan of the index: once, not on every sync
            self._docs = self._index.doc_revisions(self._kb_id)
        held = dict(self._docs)
        gone = [doc_id for doc_id in held if doc_id not in indexed]
        for doc_id in gone:
            self.remove(doc_id)
        stale = [doc_id for doc_id, rev in indexed.items() if held.get(doc_id) != rev]
        for doc_id in stale:
            found = self._collection.get(
                where={"doc_id": doc_id}, include=["documents", "metadatas"]
            )
            rows = zip(found["ids"], found["documents"], found["metadatas"])
            self.add(doc_id, self.rows(rows), indexed[doc_id])
        self._synced_at = time.monotonic()
        return len(stale), len(gone)

    def rows(self, chunks) -> list[tuple[str, str]]:
        """(chunk id, text to index) of the enabled ones of ``chunks`` (id, text, metadata)."""
        return [
            (cid, self._index_text(text, meta or {}))
            for cid, text, meta in chunks
            if (meta or {}).get("enabled", True) is not False
        ]

    def add(self, doc_id: str, chunks: list[tuple[str, str]], revision: int = 0) -> None:
        self._index.add(self._kb_id, doc_id, chunks, revision)
        if self._docs is not None:
            self._docs[doc_id] = revision

    def replace(self, doc_id: str, chunk: str, text: str | None, meta: dict, revision: int) -> None:
        """One chunk's row (None, or a disabled chunk: removed) with the document's new revision."""
        row = None if text is None or meta.get("enabled", True) is False else text
        self._index.replace_rows(
            self._kb_id,
            doc_id,
            [(chunk, None if row is None else self._index_text(row, meta))],
            revision,
        )
        if self._docs is not None:
            self._docs[doc_id] = revision

    def remove(self, doc_id: str) -> None:
        self._index.remove(self._kb_id, doc_id)
        if self._docs is not None:
            self._docs.pop(doc_id, None)

    def keep_in_step(self) -> None:
        """Before a keyword read: at most every ``every_s`` seconds, one registry read."""
        stale = self._every_s is not None and time.monotonic() - self._synced_at >= self._every_s
        # never waits for a write (an ingest holds the lock for minutes): the next read syncs
        if (not self._synced_at or stale) and self._lock.acquire(blocking=False):
            try:
                self.sync()
            finally:
                self._lock.release()
