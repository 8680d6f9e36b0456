"""The answer model's passage of a hit on a page: the small matched chunk widened with its page
neighbours (retrieval.widen_hits). A real PDF, the real parser and embedder, a real Chroma store."""

import pytest

from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ingest_files
from retrieval import SearchOptions, search, widen_hits

PAGE1 = [f"第一页第{n}句：编号{n}的零件由{n}号车间生产。" for n in range(1, 13)]
PAGE2 = [f"第二页第{n}句：编号{n}的订单在{n}号仓库发货。" for n in range(1, 13)]


@pytest.fixture()
def small_parser():
    parser = IsolatedParser(LoadLimits(), ChineseTextSplitter(400, 50, page_chunk_size=60, page_chunk_overlap=20))
    yield parser
    parser.close()


def test_a_page_hit_is_widened_from_its_own_page_only(files, store, small_parser):
    kb = store.get("w", create=True)
    ingest_files(kb, [(files.pdf("b.pdf", ["".join(PAGE1), "".join(PAGE2)]), "b.pdf")], small_parser)
    hits = search(kb, "编号6的零件由几号车间生产？", SearchOptions(k=3))
    top = hits[0]
    assert top.page == 1 and "编号6的零件" in top.text and len(top.text) <= 60

    wide = widen_hits(kb, hits, 200)
    first = wide[0]
    assert (first.chunk_id, first.page, first.score, first.source) == (top.chunk_id, top.page, top.score, top.source)
    assert top.text in first.text and 200 <= len(first.text) < 300
    assert "第二页" not in first.text  # never the next page's text
    sentences = [s for s in PAGE1 if s in first.text]
    assert len(sentences) >= 4
    for sentence in sentences:  # the overlap of neighbouring chunks is said once
        assert first.text.count(sentence) == 1
    assert hits[0].text == top.text  # the hits given are not changed in place


def test_the_whole_page_when_it_is_shorter_than_the_window(files, store, small_parser):
    kb = store.get("w", create=True)
    ingest_files(kb, [(files.pdf("b.pdf", ["".join(PAGE1[:4]), "".join(PAGE2)]), "b.pdf")], small_parser)
    hits = [h for h in search(kb, "编号2的零件由几号车间生产？", SearchOptions(k=5)) if h.page == 1]
    widened = "".join(widen_hits(kb, hits[:1], 2000)[0].text.split())  # the PDF's line breaks aside
    assert all(widened.count(s) == 1 for s in PAGE1[:4])
    assert "第二页" not in widened


def test_unpaged_hits_and_a_zero_window_are_left_alone(tmp_path, store, parser):
    kb = store.get("w", create=True)
    note = tmp_path / "note.md"
    note.write_text("# 仓库\n\n" + "".join(PAGE2), encoding="utf-8")
    ingest_files(kb, [(note, "note.md")], parser)
    hits = search(kb, "编号3的订单在哪个仓库发货？", SearchOptions(k=2))
    assert hits and hits[0].page is None
    assert [h.text for h in widen_hits(kb, hits, 2000)] == [h.text for h in hits]
    assert [h.text for h in widen_hits(kb, hits, 0)] == [h.text for h in hits]
