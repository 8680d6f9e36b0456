"""The reading side of one knowledge base: dense and keyword search over its visible chunks, the
passages around a chunk, chunks by id."""

from typing import Any

from retrieval.chunk_ids import neighbour_id
from retrieval.registry import HIDDEN_STATES, DocumentRegistry
from retrieval.sections import SectionIndex


class ChunkReading:
    """Mixed into ``KnowledgeBase``; reads ``collection``, ``registry``, ``keyword``, ``id``,
    ``_keyword_rows`` and ``_embeddings``, which it sets up."""

    id: str
    collection: Any  # the Chroma collection of chunks
    registry: DocumentRegistry
    sections: SectionIndex
    keyword: Any
    _keyword_rows: Any
    _embeddings: Any

    disabled_ids: Any  # PassageEditing's

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
        """``dense_search`` for a query already embedded. Disabled passages are left out: fetched
        past and dropped, so a knowledge base with none pays no filter."""
        disabled = set(self.disabled_ids())
        clauses: list[dict] = []
        hidden = self.hidden_doc_ids()
        if hidden:
            clauses.append({"doc_id": {"$nin": hidden}})
        if doc_ids:
            clauses.append({"doc_id": {"$in": list(doc_ids)}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        found = self.collection.query(
            query_embeddings=[vector],
            n_results=n + len(disabled),
            where=where,
            include=["distances"],
        )
        # cosine space: distance = 1 - similarity
        pairs = zip(found["ids"][0], found["distances"][0])
        return [(cid, 1.0 - float(d)) for cid, d in pairs if cid not in disabled][:n]

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
        found = self.collection.get(
            where={"enabled": {"$ne": False}},
            where_document={"$contains": text},
            limit=1,
            include=[],
        )
        return bool(found["ids"])

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

    def outline(self, doc_id: str) -> list[dict]:
        """A visible document's outline, each entry with its digest (empty: none found, or no such
        document)."""
        record = self.registry.get(doc_id)
        if record is None or record.status in HIDDEN_STATES:
            return []
        return self.sections.outline(doc_id)
