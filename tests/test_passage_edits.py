"""Correcting a knowledge base by hand (retrieval/passage_edits.py): edit, disable, add, undo, on a
real Chroma store, the real embedding model and the keyword index; both indexes agree after
every change and after a restart."""

import sqlite3

import pytest
from langchain_core.documents import Document

from retrieval import KnowledgeBaseStore, open_chroma_client
from retrieval.passage_edits import NOTES_DOC_ID, PassageNotFound, PassageRefused

POLICY = [
    "员工出差需提前三天提交申请，经部门经理批准后方可出行。",
    "住宿标准：一线城市每晚不超过六百元，其他城市不超过四百元。",
    "报销须在出差结束后十五个工作日内提交，并附上全部发票原件。",
    "年假天数按工龄计算：满一年五天，满十年十天，满二十年十五天。",
]


def _kb(store):
    kb = store.open_for_writing("policy", create=True)
    chunks = [Document(page_content=t, metadata={"page": n + 1}) for n, t in enumerate(POLICY)]
    kb.add_document("d" * 64, "policy.pdf", chunks, pages=4)
    return kb


def _reopen(tmp_path, embeddings):
    client = open_chroma_client(path=tmp_path / "chroma")
    return KnowledgeBaseStore(client, embeddings, tmp_path / "keyword.sqlite").get("policy")


def _keyword_rows(tmp_path, kb) -> dict[str, str]:
    db = sqlite3.connect(tmp_path / "keyword.sqlite")
    return dict(db.execute(f'SELECT chunk_id, tokens FROM "kw_{kb.id}"').fetchall())


def _agree(tmp_path, kb) -> None:
    """Every enabled chunk's keyword row is the tokens of its stored text; no other rows."""
    rows = _keyword_rows(tmp_path, kb)
    want = {
        cid: " ".join(kb.keyword.tokenizer.tokens(kb._index_text(text, meta)))
        for cid, text, meta in kb.document_chunks("d" * 64)
        if meta.get("enabled", True) is not False
    }
    assert rows == want


def test_edit_reaches_both_indexes_and_survives_a_restart(store, tmp_path, embeddings):
    kb = _kb(store)
    cid = kb.document_chunks("d" * 64)[1][0]
    edited = kb.edit_passage(cid, "住宿标准：所有城市每晚不超过八百元，可入住协议酒店。")
    assert edited["edited"] and edited["original_text"] == POLICY[1]
    assert kb.keyword_search("协议酒店", 3)[0][0] == cid  # by keyword
    assert kb.dense_search("可以住协议酒店吗", 1)[0][0] == cid  # by meaning
    assert not kb.keyword_search("一线", 3)  # the old text left the keyword index
    _agree(tmp_path, kb)

    again = _reopen(tmp_path, embeddings)
    assert again.keyword_search("协议酒店", 3)[0][0] == cid
    row = {c: t for c, t, _ in again.document_chunks("d" * 64)}[cid]
    assert "协议酒店" in row
    _agree(tmp_path, again)

    undone = again.undo_edit(cid)
    assert undone["text"] == POLICY[1] and not undone["edited"]
    assert again.keyword_search("一线", 3)[0][0] == cid
    with pytest.raises(PassageRefused):
        again.undo_edit(cid)


def test_a_disabled_passage_leaves_search_and_comes_back(store, tmp_path):
    kb = _kb(store)
    cid = kb.document_chunks("d" * 64)[3][0]
    assert kb.dense_search("年假有几天", 1)[0][0] == cid
    kb.set_passage_enabled(cid, False)
    assert cid not in [c for c, _ in kb.dense_search("年假有几天", 4)]
    assert cid not in [c for c, _ in kb.keyword_search("年假 工龄", 4)]
    assert not kb.mentions("满二十年")
    assert kb.edits_in("d" * 64) == 1
    _agree(tmp_path, kb)
    kb.set_passage_enabled(cid, True)
    assert kb.dense_search("年假有几天", 1)[0][0] == cid
    assert kb.keyword_search("年假 工龄", 1)[0][0] == cid
    assert kb.edits_in("d" * 64) == 0


def test_a_passage_added_by_hand_is_found_and_can_be_removed(store):
    kb = _kb(store)
    note = kb.add_passage("问：出差可以乘坐高铁一等座吗？答：经理级以上员工可以乘坐高铁一等座。")
    assert note["manual"] and note["doc_id"] == NOTES_DOC_ID
    assert kb.keyword_search("高铁 一等座", 1)[0][0] == note["chunk_id"]
    assert kb.dense_search("能坐一等座吗", 1)[0][0] == note["chunk_id"]
    assert [r.source for r in kb.documents()][-1] == "Notes added by hand"
    in_doc = kb.add_passage("补充：差旅补助每天一百元。", doc_id="d" * 64, page=2)
    assert in_doc["page"] == 2 and kb.document_chunks("d" * 64)[-1][0] == in_doc["chunk_id"]
    with pytest.raises(PassageRefused):
        kb.remove_passage(kb.document_chunks("d" * 64)[0][0])  # parsed: disable it instead
    kb.remove_passage(note["chunk_id"])
    assert not kb.keyword_search("高铁 一等座", 1)
    with pytest.raises(PassageNotFound):
        kb.edit_passage(note["chunk_id"], "x")


def test_a_changed_file_says_how_many_edits_it_dropped(store):
    kb = _kb(store)
    first = kb.document_chunks("d" * 64)
    kb.edit_passage(first[0][0], "员工出差需提前五天提交申请。")
    kb.set_passage_enabled(first[2][0], False)
    record = kb.add_document("e" * 64, "policy.pdf", [Document(page_content="新版制度。")])
    assert record.edits_dropped == 2
    assert [r.doc_id for r in kb.documents()] == ["e" * 64]


def test_a_stale_keyword_revision_is_read_again_from_chroma(store, tmp_path, embeddings):
    """What a process killed between its Chroma write and its keyword write leaves: the registry's
    revision moved on, the keyword rows did not. The next open reads the document again."""
    kb = _kb(store)
    cid = kb.document_chunks("d" * 64)[0][0]
    record = kb.registry.get("d" * 64)
    vector = embeddings.embed_documents(["出差申请改为线上提交。"])[0]
    record.revision += 1
    kb.registry.put(record)
    kb.collection.upsert(ids=[cid], documents=["出差申请改为线上提交。"], embeddings=[vector])
    assert "线上" not in " ".join(_keyword_rows(tmp_path, kb).values())  # the two disagree
    again = _reopen(tmp_path, embeddings)
    assert again.keyword_search("线上 提交", 1)[0][0] == cid
    _agree(tmp_path, again)


def test_exports_imports_and_reembeds_carry_the_edits(store, tmp_path, embeddings):
    """Issue 39's note: an archive and a re-embedding keep edited, disabled and hand-added passages
    with their marks (and a note keeps its own id, so it never becomes a parsed passage's
    neighbour)."""
    from retrieval.archive import Archive, import_archive, write_archive

    kb = _kb(store)
    first, second = kb.document_chunks("d" * 64)[:2]
    kb.edit_passage(first[0], "员工出差需提前五天在线提交申请。")
    kb.set_passage_enabled(second[0], False)
    note = kb.add_passage("问：能坐一等座吗？答：经理级以上可以。", doc_id="d" * 64)
    out = tmp_path / "policy.kb.zip"
    write_archive(kb, store.embedding_identity(), out, lambda record: None)

    client = open_chroma_client(path=tmp_path / "elsewhere")
    other = KnowledgeBaseStore(client, embeddings, tmp_path / "elsewhere.sqlite")
    with Archive(out) as archive:
        import_archive(other, archive, "policy")
    kb2 = other.get("policy")
    rows = {cid: (text, meta) for cid, text, meta in kb2.document_chunks("d" * 64)}
    assert rows[first[0]][1]["edited"] and "五天" in rows[first[0]][0]
    assert rows[second[0]][1]["enabled"] is False
    assert rows[note["chunk_id"]][1]["manual"]
    assert kb2.keyword_search("一等座", 1)[0][0] == note["chunk_id"]
    assert second[0] not in [c for c, _ in kb2.dense_search(POLICY[1], 4)]

    store.reembed("policy")
    again = store.get("policy")
    marks = {cid: meta for cid, _, meta in again.document_chunks("d" * 64)}
    assert marks[first[0]]["edited"] and marks[second[0]]["enabled"] is False
    assert second[0] not in [c for c, _ in again.dense_search(POLICY[1], 4)]
