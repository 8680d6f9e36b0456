"""One knowledge base: a Chroma collection of chunks + a document registry + its keyword rows."""

import threading
import time
from collections.abc import Callable

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from retrieval.chunk_ids import chunk_id
from retrieval.collections import open_collections
from retrieval.context import index_text
from retrieval.kb_names import store_id
from retrieval.keyword import KeywordIndex
from retrieval.keyword_sync import KeywordSync
from retrieval.passage_edits import PassageEditing
from retrieval.registry import HIDDEN_STATES, DocumentRecord, DocumentRegistry
from retrieval.sections import SectionIndex, open_sections
from retrieval.store_reading import ChunkReading

# A document indexed or deleted through another app instance on the same Chroma server reaches this
# instance's keyword index within this many seconds (checked before a keyword search).
KEYWORD_SYNC_S = 5.0
_WRITE_BATCH = 16


class KnowledgeBase(ChunkReading, PassageEditing):
    """Operations on one knowledge base. Writes are serialised by a per-KB lock."""

    def __init__(
        self,
        name: str,
        client,
        embeddings: Embeddings,
        keyword: KeywordIndex,
        chunk_context: bool = True,
        keyword_sync_s: float | None = KEYWORD_SYNC_S,
        stale_after_s: float = 0.0,
    ):
        from langchain_chroma import Chroma

        self.name = name
        # Index each chunk with its document title and heading path (retrieval/context.py).
        self.chunk_context = chunk_context
        self.id = store_id(name)
        self._client = client
        registry, self.collection = open_collections(client, self.id, name)
        self.registry = DocumentRegistry(registry)
        # a document's outline and section digests, a level above its chunks (retrieval/sections.py)
        self.sections = SectionIndex(open_sections(client, self.id, name))
        # the same chunks as a LangChain VectorStore
        self.vectors = Chroma(
            client=client, collection_name=self.collection.name, embedding_function=embeddings
        )
        self._embeddings = embeddings
        self.keyword = keyword
        self._write_lock = threading.RLock()
        self._keyword_rows = KeywordSync(
            keyword,
            self.id,
            self.registry,
            self.collection,
            self._index_text,
            keyword_sync_s,
            self._write_lock,
        )
        # A half-written document is rolled back on open only once its writer has been silent this
        # long (0: this process is the only writer; a shared server: another process may be writing
        # it now).
        self.stale_after_s = stale_after_s
        self._recovered = False

    # --- consistency ---------------------------------------------------------------------------
    def open_for_writing(self) -> "KnowledgeBase":
        """Recovery, once per process, before the first write: opening a knowledge base to read
        (listing, searching, answering a 404) never changes it."""
        if not self._recovered:
            self.recover()
        return self

    def recover(self) -> None:
        """Roll back documents a killed process left half-written; bring the keyword index in
        step."""
        with self._write_lock:
            for doc_id in self.registry.stale_hidden_ids(time.time() - self.stale_after_s):
                self._purge(doc_id)
            self.sync_keyword()
            self._recovered = True

    def sync_keyword(self) -> tuple[int, int]:
        """Make the keyword index follow the registry (retrieval/keyword_sync.py): (added,
        removed)."""
        with self._write_lock:
            return self._keyword_rows.sync()

    def _purge(self, doc_id: str) -> None:
        self._keyword_rows.remove(doc_id)
        self.collection.delete(where={"doc_id": doc_id})
        self.sections.remove(doc_id)
        self.registry.remove(doc_id)

    # --- documents -----------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        return [r for r in self.registry.all() if r.status not in HIDDEN_STATES]

    def document(self, doc_id: str) -> DocumentRecord | None:
        record = self.registry.get(doc_id)
        return None if record is None or record.status in HIDDEN_STATES else record

    def is_indexed(self, doc_id: str) -> bool:
        record = self.registry.get(doc_id)
        return record is not None and record.status == "indexed"

    def add_document(
        self,
        doc_id: str,
        source: str,
        chunks: list[Document],
        pages: int = 0,
        on_progress: Callable[[int], None] | None = None,
        vectors: list[list[float]] | None = None,
        outline: list[dict] | None = None,
        added_at: float | None = None,
        ids: list[str] | None = None,
    ) -> DocumentRecord:
        """Embed and store ``chunks`` (``vectors``: already embedded by this model, an import;
        ``ids``: their chunk ids, an import's) and the sections of its ``outline``
        (``ingest.OutlineEntry.as_dict()`` each); visible all at once when done. Replaces an older
        version of ``source``; the record's ``edits_dropped`` says how many passages edited by hand
        went with it."""
        with self._write_lock:
            self.open_for_writing()
            earlier = self.registry.get(doc_id)
            # a killed writer's leftovers
            if earlier is not None and earlier.status in HIDDEN_STATES:
                self.collection.delete(where={"doc_id": doc_id})
                self.sections.remove(doc_id)
            try:
                record = self._write(
                    doc_id, source, chunks, pages, on_progress, vectors, outline, added_at, ids
                )
            except BaseException:
                self._roll_back(doc_id)  # nothing of a failed write stays: whole or not at all
                raise
            for old in self.registry.by_source(source):
                if old.doc_id != doc_id:
                    record.edits_dropped += self.edits_in(old.doc_id)
                    self.delete_document(old.doc_id)
            return record

    def _write(
        self, doc_id, source, chunks, pages, on_progress, given, outline, added_at, given_ids
    ) -> DocumentRecord:
        """Chunks and sections under a pending record, then the commit point, then the keyword rows
        (the caller holds the write lock). The indexed record's time is ``added_at`` (when the file
        was received) or now; a pending record's is its writer's heartbeat."""
        pending = DocumentRecord(doc_id, source, "pending", len(chunks), pages)
        ids = given_ids or [chunk_id(doc_id, i) for i in range(len(chunks))]
        written: list[list[float]] = []
        for start in range(0, len(chunks), _WRITE_BATCH):
            pending.added_at = time.time()
            self.registry.put(pending)  # also the writer's heartbeat (see stale_after_s)
            batch = [_clean(c, doc_id) for c in chunks[start : start + _WRITE_BATCH]]
            vectors = (
                given[start : start + _WRITE_BATCH]
                if given is not None
                else self._embeddings.embed_documents(
                    [self._index_text(c.page_content, c.metadata) for c in batch]
                )
            )
            written.extend(vectors)
            self.collection.add(
                ids=ids[start : start + _WRITE_BATCH],
                embeddings=vectors,
                documents=[c.page_content for c in batch],
                metadatas=[c.metadata for c in batch],
            )
            if on_progress:
                on_progress(len(batch))
        if outline:
            self.sections.put(doc_id, outline, [c.page_content for c in chunks], written)
        record = DocumentRecord(
            doc_id, source, "indexed", len(chunks), pages, added_at=added_at or time.time()
        )
        self.registry.put(record)  # the commit point
        self._keyword_rows.add(
            doc_id,
            self._keyword_rows.rows((i, c.page_content, c.metadata) for i, c in zip(ids, chunks)),
        )
        return record

    def discard_unfinished(self, doc_id: str) -> None:
        """Remove a document whose write did not finish (its record still pending); an indexed one
        is left alone."""
        with self._write_lock:
            record = self.registry.get(doc_id)
            if record is not None and record.status in HIDDEN_STATES:
                self._purge(doc_id)

    def _roll_back(self, doc_id: str) -> None:
        """Remove what a failed write left. When that fails too (the store is down, the disk full),
        the document stays hidden (pending) and the next write's recovery, or the next attempt at
        the same file, removes it."""
        try:
            self._purge(doc_id)
        except Exception:  # noqa: BLE001  left for recovery, which runs before the next write
            self._recovered = False

    def _index_text(self, text: str, metadata) -> str:
        return index_text(text, metadata) if self.chunk_context else text

    def record_failure(self, doc_id: str, source: str, reason: str) -> None:
        with self._write_lock:
            self.open_for_writing()
            existing = self.registry.get(doc_id)
            if existing is None or existing.status == "failed":
                self.registry.put(
                    DocumentRecord(doc_id, source, "failed", error=reason, added_at=time.time())
                )

    def delete_document(self, doc_id: str) -> bool:
        with self._write_lock:
            self.open_for_writing()
            record = self.registry.get(doc_id)
            if record is None:
                return False
            record.status = "deleting"
            self.registry.put(record)
            self._purge(doc_id)
            return True


def _clean(chunk: Document, doc_id: str) -> Document:
    """Chroma metadata values must be str/int/float/bool: drop the rest."""
    meta = {k: v for k, v in chunk.metadata.items() if isinstance(v, (str, int, float, bool))} | {
        "doc_id": doc_id
    }
    return Document(page_content=chunk.page_content, metadata=meta)
