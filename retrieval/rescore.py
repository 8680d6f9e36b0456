"""Second stage for paged documents: the top pages rescored by the keyword match of their whole
text.

The first stage matches chunks, and a page ranks by its best chunk. A question's words are often
spread over a page (its subject in one chunk, the detail asked about in the next), and a
neighbouring page on the same subject can hold a better single chunk. This stage takes the top
``top`` hits, reads every chunk of each hit's page, and scores the whole page texts by BM25 among
themselves (the question's keyword terms, the keyword index's tokenizer). The new score is the
first-stage score and the page BM25, each min-max scaled over those hits, added with ``weight`` on
the BM25; with the question's vector, also the page's best chunk cosine and the cosine of its
chunks' mean vector (the page as a whole), read from the stored vectors, scaled the same way.
Measured on the long-document benchmark (README, "Long documents"); it costs one Chroma read and the
tokenizing of about ten pages per question.

It runs only when at least one of the top hits has a page: knowledge bases of unpaged files
(Markdown, text) keep the first-stage order.
"""

import math
from collections import Counter
from collections.abc import Callable, Sequence

from retrieval.chunk_ids import chunk_index


def page_texts(collection, hits: Sequence) -> dict[tuple[str, int], str]:
    """(doc_id, page) -> the page's text (its chunks in order), for the paged ``hits``; one Chroma
    read."""
    keys = {(h.doc_id, h.page) for h in hits if h.page is not None}
    if not keys:
        return {}
    docs, pages = sorted({d for d, _ in keys}), sorted({p for _, p in keys})
    where = {"$and": [{"doc_id": {"$in": docs}}, {"page": {"$in": pages}}]}
    found = collection.get(where=where, include=["documents", "metadatas"])
    parts: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for cid, text, meta in zip(found["ids"], found["documents"], found["metadatas"]):
        meta = meta or {}
        page = meta.get("page")
        key = (meta.get("doc_id", ""), int(page) if page is not None else -1)
        if key in keys:
            parts.setdefault(key, []).append((chunk_index(cid) or 0, text or ""))
    return {key: "\n".join(t for _, t in sorted(chunks)) for key, chunks in parts.items()}


def page_similarity(
    collection, hits: Sequence, query_vector: Sequence[float]
) -> dict[tuple[str, int], tuple[float, float]]:
    """(doc_id, page) -> (the best cosine of any of the page's chunks, the cosine of their mean
    vector) with the question's vector, for the paged ``hits``; one Chroma read of the stored
    vectors."""
    import numpy as np

    keys = {(h.doc_id, h.page) for h in hits if h.page is not None}
    if not keys:
        return {}
    where = {
        "$and": [
            {"doc_id": {"$in": sorted({d for d, _ in keys})}},
            {"page": {"$in": sorted({p for _, p in keys})}},
        ]
    }
    found = collection.get(where=where, include=["metadatas", "embeddings"])
    vectors: dict[tuple[str, int], list] = {}
    for meta, vector in zip(found["metadatas"], found["embeddings"]):
        key = ((meta or {}).get("doc_id", ""), int((meta or {}).get("page", -1)))
        if key in keys:
            vectors.setdefault(key, []).append(vector)
    query = np.asarray(query_vector, dtype=float)
    out = {}
    for key, rows in vectors.items():
        matrix = np.asarray(rows, dtype=float)
        mean = matrix.mean(axis=0)
        norm = np.linalg.norm(mean)
        out[key] = (float((matrix @ query).max()), float(mean @ query / norm) if norm else 0.0)
    return out


def bm25(
    terms: Sequence[str], docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """Okapi BM25 of each token list in ``docs`` for ``terms``, with document frequencies among
    ``docs``."""
    counts = [Counter(d) for d in docs]
    n = len(docs)
    avg = sum(len(d) for d in docs) / n if n else 0.0
    idf = {}
    for term in set(terms):
        df = sum(1 for c in counts if term in c)
        idf[term] = math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0
    scores = []
    for doc, tf in zip(docs, counts):
        norm = k1 * (1 - b + b * len(doc) / avg) if avg else k1
        scores.append(
            sum(idf[t] * tf[t] * (k1 + 1) / (tf[t] + norm) for t in set(terms) if t in tf)
        )
    return scores


def _scaled(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    return [(v - low) / (high - low) if high > low else 0.0 for v in values]


def rescore_pages(
    hits: list,
    texts: dict[tuple[str, int], str],
    terms: Sequence[str],
    tokenize: Callable[[str], list[str]],
    weight: float,
    top: int,
    similarity: dict[tuple[str, int], tuple[float, float]] | None = None,
    similarity_weights: tuple[float, float] = (0.0, 0.0),
) -> list:
    """``hits`` (best first) with the first ``top`` reordered by score + weight * page BM25 (+ the
    weighted page similarities: best chunk cosine, mean-vector cosine), each scaled over those hits;
    a hit without a page counts its own text and its own cosine. Scores are left as they were."""
    head, tail = hits[:top], hits[top:]
    if weight <= 0 or len(head) < 2 or not terms or all(h.page is None for h in head):
        return hits
    docs = [
        tokenize(texts.get((h.doc_id, h.page), h.text) if h.page is not None else h.text)
        for h in head
    ]
    combined = [
        s + weight * p for s, p in zip(_scaled([h.score for h in head]), _scaled(bm25(terms, docs)))
    ]
    for part, part_weight in enumerate(similarity_weights):
        if similarity and part_weight > 0:
            own = [(h.dense_score or 0.0, h.dense_score or 0.0) for h in head]
            values = [similarity.get((h.doc_id, h.page), own[i])[part] for i, h in enumerate(head)]
            combined = [c + part_weight * v for c, v in zip(combined, _scaled(values))]
    order = sorted(range(len(head)), key=lambda i: combined[i], reverse=True)
    for i, hit in enumerate(head):  # what the retrieval test shows
        hit.extra["rank_before_page_rescore"], hit.extra["page_rescore"] = i + 1, combined[i]
    return [head[i] for i in order] + tail
