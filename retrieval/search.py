"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank fusion."""

from dataclasses import asdict, dataclass, field
from typing import Protocol

from retrieval.modes import SearchMode
from retrieval.normalize import to_simplified
from retrieval.rescore import page_similarity, page_texts, rescore_pages
from retrieval.store import KnowledgeBase

# Fusion constants, measured on CMRC 2018 + SQuAD 1.1 (bench/retrieval.py, README): a smaller k than
# the usual 60 lets top ranks weigh more, and the keyword list counts a little less than the dense one.
RRF_K = 10
KEYWORD_WEIGHT = 0.7
# With SearchOptions.per_page, how a page's chunks make its score: "best" (its best chunk) or "sum"
# (all its chunks' fused scores: a page that matches in several places ranks higher).
PAGE_SCORE = "best"
# The keyword list's weight shrinks when fewer than this share of the question's terms occur in the
# knowledge base at all (a question in another language than the documents): weight * coverage / this.
# 0 turns it off.
FULL_COVERAGE = 0.5
# With SearchOptions.page_rescore: the top this many hits are reordered by first-stage score plus this
# weight times the BM25 of their whole page's text (retrieval/rescore.py).
# It runs only when the keyword index knows at least FULL_COVERAGE of the question's terms: over pages
# in another language a page's BM25 rests on a name or a number and reorders at random.
PAGE_RESCORE_TOP = 10
PAGE_RESCORE_WEIGHT = 1.5
# ... plus these weights times the page's best chunk cosine and its mean-vector cosine (0, 0: BM25 only).
# Fitted on 2372 SQuAD questions of the long benchmark, checked on its other 1000, the Chinese sets and
# the pumpkin book (README, "Long documents", third round).
PAGE_SIMILARITY_WEIGHTS = (1.0, 0.5)


@dataclass
class Hit:
    text: str
    score: float
    source: str
    page: int | None
    doc_id: str
    chunk_id: str
    headings: str = ""
    dense_score: float | None = None   # cosine similarity, when the dense side found it
    keyword_score: float | None = None  # BM25, when the keyword side found it
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class Reranker(Protocol):
    def rerank(self, query: str, texts: list[str]) -> list[float]: ...


@dataclass(frozen=True)
class SearchOptions:
    k: int = 5
    mode: SearchMode = "hybrid"
    fetch_k: int = 30          # candidates taken from each side before fusion
    mmr: bool = False
    mmr_lambda: float = 0.7    # 1 = pure relevance, 0 = pure diversity
    doc_ids: tuple[str, ...] | None = None
    # One hit per page of a paged document (its best chunk): a long book's neighbouring chunks of one
    # page no longer crowd the other pages out of the top k.
    per_page: bool = True
    # With per_page: the top pages reordered by the keyword match of their whole text (retrieval/rescore.py).
    page_rescore: bool = True
    # A question naming 式(13.6), 图3.2, Eq. (4.2) ...: the pages (chunks) holding it come first
    # (retrieval/references.py).
    references_first: bool = True


def search(kb: KnowledgeBase, query: str, options: SearchOptions = SearchOptions(),
           reranker: Reranker | None = None) -> list[Hit]:
    if not query.strip():
        return []
    dense = _dense(kb, query, options) if options.mode in ("hybrid", "dense") else []
    keyword = kb.keyword_search(query, options.fetch_k, list(options.doc_ids or [])) \
        if options.mode in ("hybrid", "keyword") else []
    weight, coverage = KEYWORD_WEIGHT, None
    if keyword and dense and FULL_COVERAGE > 0:
        coverage = kb.keyword_coverage(query)
        weight *= min(1.0, coverage / FULL_COVERAGE)
    fused = _fuse((dense, 1.0), (keyword, weight))
    references = _reference_matches(kb, query, options) \
        if options.references_first and options.mode in ("hybrid", "keyword") else {}
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
    hits = [_hit(cid, score, chunks[cid], dense_scores.get(cid), keyword_scores.get(cid))
            for cid, score in ranked if cid in chunks]
    if options.per_page:
        hits = _best_per_page(hits)
        if options.page_rescore:
            hits = _rescore_pages(kb, query, hits, coverage)
    if references:
        hits = _references_first(hits, references)
    if options.per_page:
        hits = hits[:want]
    if reranker is not None:
        scores = reranker.rerank(query, [h.text for h in hits])
        for hit, score in zip(hits, scores):
            hit.extra["fused_score"], hit.score = hit.score, float(score)
        hits.sort(key=lambda h: h.score, reverse=True)
    if options.mmr and len(hits) > options.k:
        hits = _mmr(kb, query, hits, chunks, options)
    return hits[: options.k]


def _dense(kb: KnowledgeBase, query: str, options: SearchOptions) -> list[tuple[str, float]]:
    # A Traditional-Chinese question is embedded in Simplified: the script most pages are in.
    return kb.dense_search(to_simplified(query), options.fetch_k, list(options.doc_ids or []))


def _rescore_pages(kb: KnowledgeBase, query: str, hits: list[Hit], coverage: float | None) -> list[Hit]:
    head = hits[:PAGE_RESCORE_TOP]
    if PAGE_RESCORE_WEIGHT <= 0 or len(head) < 2 or all(h.page is None for h in head):
        return hits
    if (kb.keyword_coverage(query) if coverage is None else coverage) < FULL_COVERAGE:
        return hits
    tokenizer = kb.keyword.tokenizer
    similarity = None
    if any(w > 0 for w in PAGE_SIMILARITY_WEIGHTS):
        similarity = page_similarity(kb.collection, head, kb.embed_query(to_simplified(query)))
    return rescore_pages(hits, page_texts(kb.collection, head), tokenizer.query_terms(query), tokenizer.tokens,
                         PAGE_RESCORE_WEIGHT, PAGE_RESCORE_TOP, similarity, PAGE_SIMILARITY_WEIGHTS)


def _reference_matches(kb: KnowledgeBase, query: str, options: SearchOptions) -> dict[str, int]:
    """kb.reference_matches without chunks of contents pages: they list every 式(x.y) of the book."""
    found = kb.reference_matches(query, options.fetch_k, list(options.doc_ids or []))
    if not found:
        return found
    chunks = kb.get_chunks(list(found))
    return {cid: n for cid, n in found.items() if cid in chunks and not chunks[cid]["metadata"].get("contents")}


def _references_first(hits: list[Hit], references: dict[str, int]) -> list[Hit]:
    """Hits whose page holds more of the question's numbered references first; order kept otherwise."""
    held: dict[tuple[str, object], int] = {}
    for hit in hits:
        key = (hit.doc_id, hit.page if hit.page is not None else hit.chunk_id)
        held[key] = max(held.get(key, 0), references.get(hit.chunk_id, 0))
    return sorted(hits, key=lambda h: -held[(h.doc_id, h.page if h.page is not None else h.chunk_id)])


def _fuse(*weighted_lists: tuple[list[tuple[str, float]], float]) -> dict[str, float]:
    """Weighted reciprocal rank fusion: sum of weight / (RRF_K + rank) over the lists."""
    fused: dict[str, float] = {}
    for ranked, weight in weighted_lists:
        for rank, (cid, _) in enumerate(ranked):
            fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
    return fused


def _best_per_page(hits: list[Hit]) -> list[Hit]:
    """Keep the first (best) hit of each (document, page); hits without a page are kept as they are."""
    best: dict[tuple[str, int], Hit] = {}
    out = []
    for hit in hits:
        if hit.page is not None:
            key = (hit.doc_id, hit.page)
            if key in best:
                if PAGE_SCORE == "sum":
                    best[key].score += hit.score
                continue
            best[key] = hit
        out.append(hit)
    if PAGE_SCORE == "sum":
        out.sort(key=lambda h: h.score, reverse=True)
    return out


def _hit(cid: str, score: float, chunk: dict, dense: float | None, keyword: float | None) -> Hit:
    meta = chunk["metadata"]
    page = meta.get("page")
    return Hit(text=chunk["text"], score=score, source=meta.get("source", ""),
               page=int(page) if page is not None else None, doc_id=meta.get("doc_id", ""),
               chunk_id=cid, headings=meta.get("headings", ""), dense_score=dense, keyword_score=keyword)


def _mmr(kb: KnowledgeBase, query: str, hits: list[Hit], chunks: dict, options: SearchOptions) -> list[Hit]:
    import numpy as np
    from langchain_core.vectorstores.utils import maximal_marginal_relevance

    query_vec = np.array(kb.embed_query(query))
    vectors = [chunks[h.chunk_id]["embedding"] for h in hits]
    order = maximal_marginal_relevance(query_vec, vectors, lambda_mult=options.mmr_lambda, k=options.k)
    return [hits[i] for i in order]
