"""One knowledge base: a Chroma collection of chunks + a document registry + its keyword rows."""

import threading
import time
from collections.abc import Callable

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from retrieval.chunk_ids import chunk_id, neighbour_id
from retrieval.collections import open_collections
from retrieval.context import index_text
from retrieval.kb_names import store_id
from retrieval.keyword import KeywordIndex
from retrieval.keyword_sync import KeywordSync
from retrieval.registry import HIDDEN_STATES, DocumentRecord, DocumentRegistry

# A document indexed or deleted through another app instance on the same Chroma server reaches this
# instance's keyword index within this many seconds (checked before a keyword search).
KEYWORD_SYNC_S = 5.0
_WRITE_BATCH = 16


class KnowledgeBase:
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
        # the same chunks as a LangChain VectorStore
        self.vectors = Chroma(
            client=client, collection_name=self.collection.name, embedding_function=embeddings
        )
        self._embeddings = embeddings
        self.keyword = keyword
        self._keyword_rows = KeywordSync(
            keyword, self.id, self.registry, self.collection, self._index_text, keyword_sync_s
        )
        self._write_lock = threading.RLock()
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
    ) -> DocumentRecord:
        """Embed and store ``chunks`` (``vectors``: already embedded by this model, an import);
        visible all at once when done. Replaces an older version of ``source``."""
        with self._write_lock:
            self.open_for_writing()
            earlier = self.registry.get(doc_id)
            # a killed writer's leftovers
            if earlier is not None and earlier.status in HIDDEN_STATES:
                self.collection.delete(where={"doc_id": doc_id})
            try:
                record = self._write(doc_id, source, chunks, pages, on_progress, vectors)
            except BaseException:
                self._roll_back(doc_id)  # nothing of a failed write stays: whole or not at all
                raise
            for old in self.registry.by_source(source):
                if old.doc_id != doc_id:
                    self.delete_document(old.doc_id)
            return record

    def _write(self, doc_id, source, chunks, pages, on_progress, given) -> DocumentRecord:
        """Chunks under a pending record, then the commit point, then the keyword rows (the caller
        holds the write lock)."""
        pending = DocumentRecord(doc_id, source, "pending", len(chunks), pages)
        ids = [chunk_id(doc_id, i) for i in range(len(chunks))]
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
            self.collection.add(
                ids=ids[start : start + _WRITE_BATCH],
                embeddings=vectors,
                documents=[c.page_content for c in batch],
                metadatas=[c.metadata for c in batch],
            )
            if on_progress:
                on_progress(len(batch))
        record = DocumentRecord(doc_id, source, "indexed", len(chunks), pages, added_at=time.time())
        self.registry.put(record)  # the commit point
        self._keyword_rows.add(
            doc_id, [(i, self._index_text(c.page_content, c.metadata)) for i, c in zip(ids, chunks)]
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

    # --- reading -------------------------------------------------------------------------------
    def hidden_doc_ids(self) -> list[str]:
        return self.registry.ids_with_status(*HIDDEN_STATES)

    def chunk_count(self) -> int:
        return sum(r.chunks for r in self.registry.all() if r.status == "indexed")

    def dense_search(
        self, query: str, n: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the ``n`` nearest chunks of visible documents, best
        first."""
        return self.nearest(self.embed_query(query), n, doc_ids)

    def nearest(
        self, vector: list[float], n: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """``dense_search`` for a query already embedded."""
        clauses: list[dict] = []
        hidden = self.hidden_doc_ids()
        if hidden:
            clauses.append({"doc_id": {"$nin": hidden}})
        if doc_ids:
            clauses.append({"doc_id": {"$in": list(doc_ids)}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        found = self.collection.query(
            query_embeddings=[vector], n_results=n, where=where, include=["distances"]
        )
        # cosine space: distance = 1 - similarity
        return [(cid, 1.0 - float(d)) for cid, d in zip(found["ids"][0], found["distances"][0])]

    def keyword_search(
        self, query: str, n: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the ``n`` best keyword matches, best first."""
        self._keyword_rows.keep_in_step()
        return self.keyword.search(self.id, query, n, list(doc_ids or []))

    def reference_matches(
        self, query: str, limit: int, doc_ids: list[str] | None = None
    ) -> dict[str, int]:
        """chunk id -> how strongly it holds the numbered references ``query`` names (式(13.6), Fig.
        2): 2 per reference held with its kind (eq13p6), 1 per one held only as its dotted number
        (n13p6)."""
        self._keyword_rows.keep_in_step()
        return self.keyword.reference_matches(self.id, query, limit, doc_ids)

    def subject_terms(self, query: str, max_general_freq: int) -> list[str]:
        """The words of ``query`` that carry its subject (see ``Tokenizer.subject_terms``)."""
        return self.keyword.tokenizer.subject_terms(query, max_general_freq)

    def keyword_coverage(self, query: str) -> float:
        """How much of the query's terms the keyword index knows (0..1; see
        KeywordIndex.coverage)."""
        return self.keyword.coverage(self.id, query)

    def mentions(self, text: str) -> bool:
        """Does any chunk of this knowledge base contain ``text`` (exactly, case included)?"""
        return bool(
            self.collection.get(where_document={"$contains": text}, limit=1, include=[])["ids"]
        )

    def embed_query(self, query: str) -> list[float]:
        return self._embeddings.embed_query(query)

    def embedding_seconds(self) -> float:
        """Seconds the embedding model has spent so far (when it keeps count:
        ``TimedEmbeddings``)."""
        return float(getattr(self._embeddings, "seconds", 0.0))

    def passage(self, chunk: str, around: int = 1) -> list[dict] | None:
        """The chunk with up to ``around`` neighbours of its document on each side, in document
        order (each ``{"id", "text", "metadata"}``); None when there is no such chunk."""
        found = self.get_chunks([chunk]).get(chunk)
        if found is None:
            return None
        steps = range(-around, around + 1)
        ids = [cid for cid in (neighbour_id(chunk, step) for step in steps) if cid is not None]
        chunks = self.get_chunks(ids)
        return [{"id": i, **chunks[i]} for i in ids if i in chunks]

    def get_chunks(self, ids: list[str], with_embeddings: bool = False) -> dict[str, dict]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        found = self.collection.get(ids=ids, include=include)
        out = {
            cid: {"text": found["documents"][n], "metadata": found["metadatas"][n] or {}}
            for n, cid in enumerate(found["ids"])
        }
        for n, cid in enumerate(found["ids"] if with_embeddings else []):
            out[cid]["embedding"] = found["embeddings"][n]
        return out


def _clean(chunk: Document, doc_id: str) -> Document:
    """Chroma metadata values must be str/int/float/bool: drop the rest."""
    meta = {k: v for k, v in chunk.metadata.items() if isinstance(v, (str, int, float, bool))} | {
        "doc_id": doc_id
    }
    return Document(page_content=chunk.page_content, metadata=meta)
