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
    ):
        self._index, self._kb_id, self._registry, self._collection = (
            index,
            kb_id,
            registry,
            collection,
        )
        self._index_text, self._every_s = index_text, every_s
        self._synced_at = 0.0
        self._docs: set[str] | None = None  # what the index holds, read once, then kept here

    def sync(self) -> tuple[int, int]:
        """(added, removed). The caller holds the knowledge base's write lock."""
        indexed = set(self._registry.ids_with_status("indexed"))
        if self._docs is None:  # a full scan of the index: once, not on every sync
            self._docs = self._index.doc_ids(self._kb_id)
        held = set(self._docs)
        for doc_id in held - indexed:
            self.remove(doc_id)
        for doc_id in indexed - held:
            found = self._collection.get(
                where={"doc_id": doc_id}, include=["documents", "metadatas"]
            )
            rows = zip(found["ids"], found["documents"], found["metadatas"])
            self.add(
                doc_id, [(cid, self._index_text(text, meta or {})) for cid, text, meta in rows]
            )
        self._synced_at = time.monotonic()
        return len(indexed - held), len(held - indexed)

    def add(self, doc_id: str, chunks: list[tuple[str, str]]) -> None:
        self._index.add(self._kb_id, doc_id, chunks)
        if self._docs is not None:
            self._docs.add(doc_id)

    def remove(self, doc_id: str) -> None:
        self._index.remove(self._kb_id, doc_id)
        if self._docs is not None:
            self._docs.discard(doc_id)

    def keep_in_step(self) -> None:
        """Before a keyword read: at most every ``every_s`` seconds, one registry read."""
        stale = self._every_s is not None and time.monotonic() - self._synced_at >= self._every_s
        if not self._synced_at or stale:
            self.sync()
