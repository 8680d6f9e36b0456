"""Chroma's client/server mode for real: `chroma run` on 127.0.0.1, the store talking HTTP to it."""

import time

import pytest

from ingest import ingest_files
from retrieval import KnowledgeBaseStore, SearchOptions, open_chroma_client, search
from tests.servers import ChromaServer, ServerUnavailable

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it


@pytest.fixture()
def chroma_server(tmp_path):
    try:
        server = ChromaServer(tmp_path / "server")
    except ServerUnavailable as exc:
        pytest.skip(str(exc))
    with server:
        yield server.url


def test_store_in_server_mode(chroma_server, tmp_path, embeddings, parser, files):
    store = KnowledgeBaseStore(
        open_chroma_client(url=chroma_server), embeddings, tmp_path / "kw.sqlite"
    )
    kb = store.create("服务器")
    doc = files.text(
        "server.md", "# 服务器模式\n\nChroma 服务器模式可以让多台机器共享同一个知识库。"
    )
    assert ingest_files(kb, [(doc, doc.name)], parser).outcomes[0].status == "indexed"
    hits = search(kb, "多台机器共享知识库", SearchOptions(k=2))
    assert hits[0].source == "server.md"

    # A second app instance on another machine: its own keyword file, rebuilt from the server's
    # chunks.
    other = KnowledgeBaseStore(
        open_chroma_client(url=chroma_server), embeddings, tmp_path / "other-kw.sqlite"
    )
    assert [i.name for i in other.list()] == ["服务器"]
    kb2 = other.get("服务器")
    assert search(kb2, "多台机器", SearchOptions(k=1, mode="keyword"))[0].source == "server.md"
    assert [d.source for d in kb2.documents()] == ["server.md"]


def test_two_replicas_keyword_indexes_follow_the_registry(
    chroma_server, tmp_path, embeddings, parser, files
):
    """Replica B opened the knowledge base before A indexed a document: B's keyword search finds it
    within the stated bound (retrieval.store.KEYWORD_SYNC_S), without a restart; a deletion through
    B is gone from A's keyword search the same way."""
    from retrieval.store import KEYWORD_SYNC_S

    a = KnowledgeBaseStore(
        open_chroma_client(url=chroma_server), embeddings, tmp_path / "a-kw.sqlite"
    )
    b = KnowledgeBaseStore(
        open_chroma_client(url=chroma_server), embeddings, tmp_path / "b-kw.sqlite"
    )
    kb_a = a.create("共享")
    kb_b = b.get("共享")
    assert search(kb_b, "灯塔", SearchOptions(k=1, mode="keyword")) == []
    doc = files.text("lighthouse.md", "# 灯塔\n\n港口灯塔建于一八九四年，高三十一米。")
    assert ingest_files(kb_a, [(doc, doc.name)], parser).outcomes[0].status == "indexed"

    def keyword_hits(kb):
        return [h.source for h in search(kb, "港口灯塔", SearchOptions(k=1, mode="keyword"))]

    started = time.monotonic()
    while not keyword_hits(kb_b) and time.monotonic() - started < KEYWORD_SYNC_S + 5:
        time.sleep(0.2)
    assert keyword_hits(kb_b) == ["lighthouse.md"]
    assert time.monotonic() - started <= KEYWORD_SYNC_S + 1
    assert keyword_hits(kb_a) == ["lighthouse.md"]

    assert kb_b.delete_document(kb_b.documents()[0].doc_id)
    started = time.monotonic()
    while keyword_hits(kb_a) and time.monotonic() - started < KEYWORD_SYNC_S + 5:
        time.sleep(0.2)
    assert keyword_hits(kb_a) == [] and time.monotonic() - started <= KEYWORD_SYNC_S + 1


def test_a_passage_edit_reaches_the_other_replicas_keyword_index(
    chroma_server, tmp_path, embeddings
):
    """Issue 38, item 3: an edit or a disable through replica A is what replica B's keyword search
    finds within KEYWORD_SYNC_S, with no restart; B's dense search sees it at once (the same
    Chroma)."""
    from langchain_core.documents import Document

    from retrieval.store import KEYWORD_SYNC_S

    a = KnowledgeBaseStore(open_chroma_client(url=chroma_server), embeddings, tmp_path / "a.sqlite")
    b = KnowledgeBaseStore(open_chroma_client(url=chroma_server), embeddings, tmp_path / "b.sqlite")
    kb_a = a.open_for_writing("副本", create=True)
    texts = ["出差需提前三天申请。", "住宿每晚不超过六百元。", "报销须在十五个工作日内提交。"]
    kb_a.add_document("f" * 64, "rules.md", [Document(page_content=t) for t in texts])
    kb_b = b.get("副本")
    assert kb_b.keyword_search("六百元", 1)  # B's index holds the old text
    cid = kb_a.document_chunks("f" * 64)[1][0]
    kb_a.edit_passage(cid, "住宿可选协议酒店，由公司结算。")
    deadline = time.monotonic() + KEYWORD_SYNC_S + 10
    while not kb_b.keyword_search("协议酒店", 1) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kb_b.keyword_search("协议酒店", 1)[0][0] == cid
    assert not kb_b.keyword_search("六百元", 1)
    kb_a.set_passage_enabled(cid, False)
    assert cid not in [c for c, _ in kb_b.dense_search("协议酒店", 3)]
    deadline = time.monotonic() + KEYWORD_SYNC_S + 10
    while kb_b.keyword_search("协议酒店", 1) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not kb_b.keyword_search("协议酒店", 1)
