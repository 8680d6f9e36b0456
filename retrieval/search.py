"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank fusion."""

from collections.abc import Callable

from language import is_chinese
from retrieval.normalize import to_simplified
from retrieval.options import Hit, Reranker, SearchOptions
from retrieval.rescore import page_similarity, page_texts, rescore_pages
from retrieval.store import KnowledgeBase


def search(
    kb: KnowledgeBase,
    query: str,
    options: SearchOptions = SearchOptions(),
    reranker: Reranker | None = None,
) -> list[Hit]:
    if not query.strip():
        return []
    focused = _focused_query(kb, query, options)
    # A Traditional-Chinese question is embedded in Simplified: the script most pages are in. Each
    # question is embedded once: the dense search and the page rescoring share the vector.
    vectors = _QueryVectors(kb, query, focused)
    dense = (
        kb.nearest(vectors.full, options.fetch_k, list(options.doc_ids or []))
        if options.mode in ("hybrid", "dense")
        else []
    )
    dense_focused = (
        kb.nearest(vectors.focused, options.fetch_k, list(options.doc_ids or []))
        if focused and options.mode in ("hybrid", "dense")
        else []
    )
    keyword_query = focused if focused and options.focus_keyword else query
    keyword = (
        kb.keyword_search(keyword_query, options.fetch_k, list(options.doc_ids or []))
        if options.mode in ("hybrid", "keyword")
        else []
    )
    weight, coverage = options.keyword_weight, None
    if keyword and dense and options.full_coverage > 0:
        coverage = kb.keyword_coverage(keyword_query)
        weight *= min(1.0, coverage / options.full_coverage)
    fused = _fuse(
        options.rrf_k, (dense, 1.0), (dense_focused, options.focus_dense_weight), (keyword, weight)
    )
    references = (
        _reference_matches(kb, query, options)
        if options.references_first and options.mode in ("hybrid", "keyword")
        else {}
    )
    for cid, strength in references.items():  # a chunk holding the named 式(13.6) leads its page
        fused[cid] = fused.get(cid, 0.0) + strength
    if not fused:
        return []
    want = max(options.k, options.fetch_k if (reranker or options.mmr) else options.k)
    ranked = sorted(fused.items(), key=lambda kv: kv[1], reverse=True)
    if not options.per_page:
        ranked = ranked[:want]
    chunks = kb.get_chunks([cid for cid, _ in ranked], with_embeddings=options.mmr)
    dense_scores, keyword_scores = dict(dense), dict(keyword)
    hits = [
        _hit(cid, score, chunks[cid], dense_scores.get(cid), keyword_scores.get(cid))
        for cid, score in ranked
        if cid in chunks
    ]
    _note_signals(hits, dense, dense_focused, keyword, references)
    if options.per_page:
        hits = _best_per_page(hits)
        if options.page_rescore:
            hits = _rescore_pages(
                kb, keyword_query, hits, coverage, options, vectors.blend(options)
            )
    if references:
        hits = _references_first(hits, references)
    if options.per_page:
        hits = hits[:want]
    if reranker is not None:
        scores = reranker.rerank(query, [h.text for h in hits])
        for hit, score in zip(hits, scores):
            hit.extra["rerank_score"] = hit.score = float(score)
        hits.sort(key=lambda h: h.score, reverse=True)
    if options.mmr and len(hits) > options.k:
        hits = _mmr(kb, query, hits, chunks, options)
    return hits[: options.k]


def _note_signals(
    hits: list[Hit],
    dense: list[tuple[str, float]],
    dense_focused: list[tuple[str, float]],
    keyword: list[tuple[str, float]],
    references: dict[str, int],
) -> None:
    """What ranked each hit, under its own name in ``hit.extra`` (the retrieval test shows them):
    its rank on each side (1 = first), the fused score, a named reference's boost."""
    sides = {"dense_rank": dense, "focused_dense_rank": dense_focused, "keyword_rank": keyword}
    ranks = {name: {cid: n for n, (cid, _) in enumerate(side, 1)} for name, side in sides.items()}
    for hit in hits:
        hit.extra["fused_score"] = hit.score
        for name, rank in ranks.items():
            if hit.chunk_id in rank:
                hit.extra[name] = rank[hit.chunk_id]
        if hit.chunk_id in references:
            hit.extra["reference_boost"] = references[hit.chunk_id]


def _focused_query(kb: KnowledgeBase, query: str, options: SearchOptions) -> str | None:
    """The subject words of a long Chinese question, or None (short question, focusing off, nothing
    dropped)."""
    if not options.focus_min_chars or len(query) < options.focus_min_chars or not is_chinese(query):
        return None
    terms = kb.subject_terms(query, options.focus_max_general_freq)
    focused = " ".join(terms)
    return focused if terms and len(focused) < len(query) else None


class _QueryVectors:
    """The question's vector (and its focused sub-query's), embedded when first needed, once."""

    def __init__(self, kb: KnowledgeBase, query: str, focused: str | None):
        self._kb, self._query, self._focused = kb, query, focused
        self._vectors: dict[str, list[float]] = {}

    def _get(self, text: str) -> list[float]:
        if text not in self._vectors:
            self._vectors[text] = self._kb.embed_query(to_simplified(text))
        return self._vectors[text]

    @property
    def full(self) -> list[float]:
        return self._get(self._query)

    @property
    def focused(self) -> list[float]:
        return self._get(self._focused or self._query)

    def blend(self, options: "SearchOptions") -> Callable[[], list[float]]:
        """What page rescoring compares pages with: the question's vector, plus the focused one
        weighted by focus_dense_weight when there is one (computed only if rescoring asks)."""

        def vector() -> list[float]:
            if not self._focused:
                return self.full
            import numpy as np

            mixed = np.asarray(self.full) + options.focus_dense_weight * np.asarray(self.focused)
            return (mixed / (np.linalg.norm(mixed) or 1.0)).tolist()

        return vector


def _rescore_pages(
    kb: KnowledgeBase,
    query: str,
    hits: list[Hit],
    coverage: float | None,
    options: SearchOptions,
    query_vector: Callable[[], list[float]],
) -> list[Hit]:
    head = hits[: options.page_rescore_top]
    if options.page_rescore_weight <= 0 or len(head) < 2 or all(h.page is None for h in head):
        return hits
    if (kb.keyword_coverage(query) if coverage is None else coverage) < options.full_coverage:
        return hits
    tokenizer = kb.keyword.tokenizer
    similarity = None
    if any(w > 0 for w in options.page_similarity_weights):
        similarity = page_similarity(kb.collection, head, query_vector())
    return rescore_pages(
        hits,
        page_texts(kb.collection, head),
        tokenizer.query_terms(query),
        tokenizer.tokens,
        options.page_rescore_weight,
        options.page_rescore_top,
        similarity,
        options.page_similarity_weights,
    )


def _reference_matches(kb: KnowledgeBase, query: str, options: SearchOptions) -> dict[str, int]:
    """kb.reference_matches without chunks of contents pages: they list every 式(x.y) of the
    book."""
    found = kb.reference_matches(query, options.fetch_k, list(options.doc_ids or []))
    if not found:
        return found
    chunks = kb.get_chunks(list(found))
    return {
        cid: n
        for cid, n in found.items()
        if cid in chunks and not chunks[cid]["metadata"].get("contents")
    }


def _references_first(hits: list[Hit], references: dict[str, int]) -> list[Hit]:
    """Hits whose page holds more of the question's numbered references first; order kept
    otherwise."""
    held: dict[tuple[str, object], int] = {}
    for hit in hits:
        key = (hit.doc_id, hit.page if hit.page is not None else hit.chunk_id)
        held[key] = max(held.get(key, 0), references.get(hit.chunk_id, 0))
    return sorted(
        hits, key=lambda h: -held[(h.doc_id, h.page if h.page is not None else h.chunk_id)]
    )


def _fuse(rrf_k: int, *weighted_lists: tuple[list[tuple[str, float]], float]) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of weight / (rrf_k + rank) over the lists."""
    fused: dict[str, float] = {}
    for ranked, weight in weighted_lists:
        for rank, (cid, _) in enumerate(ranked):
            fused[cid] = fused.get(cid, 0.0) + weight / (rrf_k + rank + 1)
    return fused


def _best_per_page(hits: list[Hit]) -> list[Hit]:
    """Keep the first (best) hit of each (document, page); hits without a page are kept as they
    are."""
    best: dict[tuple[str, int], Hit] = {}
    out = []
    for hit in hits:
        if hit.page is not None:
            key = (hit.doc_id, hit.page)
            if key in best:
                continue
            best[key] = hit
        out.append(hit)
    return out


def _hit(cid: str, score: float, chunk: dict, dense: float | None, keyword: float | None) -> Hit:
    meta = chunk["metadata"]
    page = meta.get("page")
    return Hit(
        text=chunk["text"],
        score=score,
        source=meta.get("source", ""),
        page=int(page) if page is not None else None,
        doc_id=meta.get("doc_id", ""),
        chunk_id=cid,
        headings=meta.get("headings", ""),
        dense_score=dense,
        keyword_score=keyword,
    )


def _mmr(
    kb: KnowledgeBase, query: str, hits: list[Hit], chunks: dict, options: SearchOptions
) -> list[Hit]:
    import numpy as np
    from langchain_core.vectorstores.utils import maximal_marginal_relevance

    query_vec = np.array(kb.embed_query(query))
    vectors = [chunks[h.chunk_id]["embedding"] for h in hits]
    order = maximal_marginal_relevance(
        query_vec, vectors, lambda_mult=options.mmr_lambda, k=options.k
    )
    return [hits[i] for i in order]
