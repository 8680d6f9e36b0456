"""The second stage for paged documents (retrieval/rescore.py) and the Chinese stop words of keyword
queries: tiny hand-made pages, then one real PDF through the product's path."""

import sys

import pytest

from ingest import ingest_files
from retrieval import SearchOptions, search
from retrieval.rescore import bm25, page_similarity, page_texts, rescore_pages
from retrieval.search import Hit


def _hit(page, text, score, doc="d1"):
    return Hit(
        text=text, score=score, source=f"{doc}.pdf", page=page, doc_id=doc, chunk_id=f"{doc}-{page}"
    )


def _tokens(text):
    return text.lower().split()


def test_bm25_prefers_the_document_with_more_of_the_rarer_terms():
    docs = [["dual", "problem", "svm"], ["svm", "margin", "svm"], ["tree", "entropy"]]
    scores = bm25(["dual", "svm"], docs)
    assert scores[0] > scores[1] > scores[2] == 0.0
    assert bm25([], docs) == [0.0, 0.0, 0.0]
    assert bm25(["svm"], []) == []


def test_whole_page_text_reorders_the_top_pages():
    # Page 7's best chunk scored higher, but page 8's whole text holds every word of the question.
    hits = [
        _hit(7, "the margin of the svm", 0.10),
        _hit(8, "the svm", 0.09),
        _hit(9, "decision trees", 0.05),
    ]
    texts = {
        ("d1", 7): "the margin of the svm is wide",
        ("d1", 8): "the svm dual problem: lagrange multipliers give the dual problem",
        ("d1", 9): "decision trees split on entropy",
    }
    terms = ["svm", "dual", "problem"]
    assert [h.page for h in rescore_pages(hits, texts, terms, _tokens, weight=0.6, top=10)] == [
        8,
        7,
        9,
    ]
    # weight 0, no terms, or top 1: the first-stage order stays
    assert [h.page for h in rescore_pages(hits, texts, terms, _tokens, weight=0.0, top=10)] == [
        7,
        8,
        9,
    ]
    assert [h.page for h in rescore_pages(hits, texts, [], _tokens, weight=0.6, top=10)] == [
        7,
        8,
        9,
    ]
    assert [h.page for h in rescore_pages(hits, texts, terms, _tokens, weight=0.6, top=1)] == [
        7,
        8,
        9,
    ]
    # only the top `top` hits are reordered; the rest keep their place behind them
    tied = [_hit(7, "a", 0.10), _hit(8, "b", 0.10), _hit(9, "c", 0.05)]
    texts[("d1", 9)] = "svm dual problem dual problem"
    assert [h.page for h in rescore_pages(tied, texts, terms, _tokens, weight=0.6, top=2)] == [
        8,
        7,
        9,
    ]


def test_a_small_weight_keeps_a_clear_first_stage_lead():
    hits = [_hit(1, "a", 0.30), _hit(2, "b", 0.10), _hit(3, "c", 0.09)]
    texts = {("d1", 1): "svm margin", ("d1", 2): "svm dual problem", ("d1", 3): "tree"}
    order = rescore_pages(hits, texts, ["svm", "dual"], _tokens, weight=0.6, top=10)
    assert [h.page for h in order] == [1, 2, 3]  # 1.0 + 0.6*x vs 0.05 + 0.6*1.0


def test_unpaged_hits_keep_the_first_stage_order():
    hits = [
        Hit("svm margin", 0.1, "a.md", None, "a", "a-0"),
        Hit("svm dual problem", 0.09, "b.md", None, "b", "b-0"),
    ]
    assert rescore_pages(hits, {}, ["svm", "dual"], _tokens, weight=0.6, top=10) == hits


class _Collection:
    def __init__(self, rows):
        self.rows, self.where = rows, None

    def get(self, where, include):
        self.where = where
        found = [
            r
            for r in self.rows
            if r[2]["doc_id"] in where["$and"][0]["doc_id"]["$in"]
            and r[2]["page"] in where["$and"][1]["page"]["$in"]
        ]
        return {
            "ids": [r[0] for r in found],
            "documents": [r[1] for r in found],
            "metadatas": [r[2] for r in found],
        }


def test_page_texts_joins_each_pages_chunks_in_order_in_one_read():
    rows = [
        ("d1-1", "second", {"doc_id": "d1", "page": 3}),
        ("d1-0", "first", {"doc_id": "d1", "page": 3}),
        ("d1-2", "other page", {"doc_id": "d1", "page": 4}),
        ("d2-0", "same page, other doc", {"doc_id": "d2", "page": 4}),
        ("d2-5", "not asked", {"doc_id": "d2", "page": 3}),
    ]
    collection = _Collection(rows)
    texts = page_texts(
        collection,
        [_hit(3, "x", 0.1, "d1"), _hit(4, "y", 0.1, "d2"), Hit("z", 0.1, "m.md", None, "m", "m-0")],
    )
    assert texts == {("d1", 3): "first\nsecond", ("d2", 4): "same page, other doc"}
    assert page_texts(collection, [Hit("z", 0.1, "m.md", None, "m", "m-0")]) == {}


class _VectorCollection:
    def __init__(self, rows):
        self.rows = rows

    def get(self, where, include):
        assert "embeddings" in include
        found = [
            r
            for r in self.rows
            if r[0]["doc_id"] in where["$and"][0]["doc_id"]["$in"]
            and r[0]["page"] in where["$and"][1]["page"]["$in"]
        ]
        return {"metadatas": [r[0] for r in found], "embeddings": [r[1] for r in found]}


def test_page_similarity_is_the_best_chunk_and_the_page_as_a_whole():
    rows = [
        ({"doc_id": "d", "page": 1}, [1.0, 0.0]),
        ({"doc_id": "d", "page": 1}, [0.0, 1.0]),
        ({"doc_id": "d", "page": 2}, [0.8, 0.6]),
        ({"doc_id": "d", "page": 2}, [0.6, 0.8]),
        ({"doc_id": "d", "page": 3}, [1.0, 0.0]),
    ]  # page 3 not asked for
    sims = page_similarity(
        _VectorCollection(rows), [_hit(1, "a", 0.1, "d"), _hit(2, "b", 0.1, "d")], [1.0, 0.0]
    )
    assert set(sims) == {("d", 1), ("d", 2)}
    best1, whole1 = sims[("d", 1)]
    best2, whole2 = sims[("d", 2)]
    # one chunk on topic
    assert best1 == pytest.approx(1.0) and whole1 == pytest.approx(0.7071, abs=1e-3)
    assert best2 == pytest.approx(0.8) and whole2 == pytest.approx(0.7071, abs=1e-3)


def test_similarity_weights_reorder_pages_the_keywords_tie_on():
    hits = [_hit(7, "svm", 0.9), _hit(8, "svm", 0.8)]
    texts = {("d1", 7): "svm margin", ("d1", 8): "svm margin"}  # same BM25
    sims = {("d1", 7): (0.80, 0.70), ("d1", 8): (0.90, 0.85)}
    assert [h.page for h in rescore_pages(hits, texts, ["svm"], _tokens, 0.6, 10)] == [7, 8]
    assert [
        h.page for h in rescore_pages(hits, texts, ["svm"], _tokens, 0.6, 10, sims, (0.0, 0.0))
    ] == [7, 8]
    assert [
        h.page for h in rescore_pages(hits, texts, ["svm"], _tokens, 0.6, 10, sims, (1.0, 0.5))
    ] == [8, 7]


def test_search_reorders_pages_of_a_real_pdf(files, store, parser):
    pdf = files.pdf(
        "svm.pdf",
        [
            "支持向量机的间隔。" * 20,
            "支持向量机的间隔是样本到超平面的最小距离。"
            + "拉格朗日乘子把主问题变成对偶问题，对偶问题更容易求解。" * 6,
            "决策树用信息增益选择划分属性。" * 20,
        ],
    )
    kb = store.create("rescore")
    ingest_files(kb, [(pdf, "svm.pdf")], parser)
    hits = search(kb, "支持向量机的对偶问题怎么求解", SearchOptions(k=3))
    assert hits[0].page == 2
    assert sorted(h.page for h in hits) == [1, 2, 3]  # still one hit per page
    assert sorted(
        h.page
        for h in search(kb, "支持向量机的对偶问题怎么求解", SearchOptions(k=3, page_rescore=False))
    ) == [1, 2, 3]


def test_no_rescoring_for_a_question_in_another_language(files, store, parser, monkeypatch):
    pdf = files.pdf(
        "zh.pdf",
        [
            "支持向量机的间隔是样本到超平面的最小距离。" * 10,
            "拉格朗日乘子把主问题变成对偶问题。" * 10,
        ],
    )
    kb = store.create("crosslingual")
    ingest_files(kb, [(pdf, "zh.pdf")], parser)
    read = []
    monkeypatch.setattr(
        sys.modules["retrieval.search"], "page_texts", lambda *a: read.append(a) or {}
    )
    assert (
        len(
            search(
                kb, "What is the dual problem of the support vector machine?", SearchOptions(k=2)
            )
        )
        == 2
    )
    assert read == []  # the keyword index knows none of its terms: the first-stage order stands
    search(kb, "对偶问题", SearchOptions(k=2))
    assert len(read) == 1
