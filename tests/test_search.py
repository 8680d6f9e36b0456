"""Hybrid search options: document filters, MMR, and a rerank API served by a local HTTP server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import ingest_files
from retrieval import APIReranker, SearchOptions, search


@pytest.fixture()
def kb(store, parser, files):
    kb = store.create("search")
    paths = [
        files.text(
            "cats.md",
            "# 猫\n\n猫是一种常见的宠物，喜欢睡觉。\n\n## 饮食\n\n猫主要吃肉，需要牛磺酸。",
        ),
        files.text(
            "dogs.md", "# 狗\n\n狗是人类最早驯化的动物，忠诚友好。\n\n## 饮食\n\n狗是杂食动物。"
        ),
        files.text("rl.txt", "Reinforcement learning agents learn a policy from rewards."),
    ]
    ingest_files(kb, [(p, p.name) for p in paths], parser)
    return kb


def test_modes_and_hit_fields(kb):
    for mode in ("hybrid", "dense", "keyword"):
        hits = search(kb, "猫吃什么", SearchOptions(k=3, mode=mode))
        assert hits[0].source == "cats.md", mode
        assert hits[0].chunk_id and hits[0].doc_id and hits[0].headings.startswith("猫")
    hybrid = search(kb, "猫吃什么", SearchOptions(k=3))[0]
    assert hybrid.dense_score is not None and hybrid.keyword_score is not None


def test_filter_by_document(kb):
    dogs = next(r.doc_id for r in kb.documents() if r.source == "dogs.md")
    hits = search(kb, "猫吃什么", SearchOptions(k=5, doc_ids=(dogs,)))
    assert hits and {h.source for h in hits} == {"dogs.md"}


def test_mmr_returns_k_distinct_chunks(kb):
    hits = search(kb, "动物的饮食", SearchOptions(k=3, mmr=True))
    assert len(hits) == 3 and len({h.chunk_id for h in hits}) == 3


def test_empty_query_and_unknown_terms(kb):
    assert search(kb, "   ", SearchOptions()) == []
    assert search(kb, "量子色动力学", SearchOptions(mode="keyword")) == []


class _RerankHandler(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.path, self.headers.get("Authorization"), body))
        # Prefers documents mentioning rewards: the opposite of what the query alone would rank
        # first.
        results = [
            {"index": i, "relevance_score": 1.0 if "reward" in d else 0.1}
            for i, d in enumerate(body["documents"])
        ]
        payload = json.dumps({"results": results}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_rerank_api_reorders(kb):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RerankHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reranker = APIReranker(
            f"http://127.0.0.1:{server.server_port}/v1", model="bge-reranker", api_key="rk"
        )
        hits = search(kb, "猫吃什么", SearchOptions(k=2), reranker=reranker)
    finally:
        server.shutdown()
    path, auth, body = _RerankHandler.seen[-1]
    assert (
        path == "/v1/rerank"
        and auth == "Bearer rk"
        and body["query"] == "猫吃什么"
        and body["model"] == "bge-reranker"
    )
    assert hits[0].source == "rl.txt" and hits[0].score == 1.0 and "fused_score" in hits[0].extra
