"""The answer model's passage of a hit: the matched chunk widened with its neighbours, on its page
for a PDF, in its document otherwise, a sentence cut at a boundary finished (retrieval.widen_hits).
Real files, the real parser and embedder, a real Chroma store; one fake store for the joining rules.
"""

import pytest

from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ingest_files
from retrieval import SearchOptions, search, widen_hits

PAGE1 = [f"第一页第{n}句：编号{n}的零件由{n}号车间生产。" for n in range(1, 13)]
PAGE2 = [f"第二页第{n}句：编号{n}的订单在{n}号仓库发货。" for n in range(1, 13)]


@pytest.fixture()
def small_parser():
    parser = IsolatedParser(
        LoadLimits(), ChineseTextSplitter(400, 50, page_chunk_size=60, page_chunk_overlap=20)
    )
    yield parser
    parser.close()


def test_a_page_hit_is_widened_from_its_own_page_only(files, store, small_parser):
    kb = store.get("w", create=True)
    ingest_files(
        kb, [(files.pdf("b.pdf", ["".join(PAGE1), "".join(PAGE2)]), "b.pdf")], small_parser
    )
    hits = search(kb, "编号6的零件由几号车间生产？", SearchOptions(k=3))
    top = hits[0]
    assert top.page == 1 and "编号6的零件" in top.text and len(top.text) <= 60

    wide = widen_hits(kb, hits, 200)
    first = wide[0]
    assert (first.chunk_id, first.page, first.score, first.source) == (
        top.chunk_id,
        top.page,
        top.score,
        top.source,
    )
    assert top.text in first.text and 200 <= len(first.text) < 300
    assert "第二页" not in first.text  # never the next page's text
    sentences = [s for s in PAGE1 if s in first.text]
    assert len(sentences) >= 4
    for sentence in sentences:  # the overlap of neighbouring chunks is said once
        assert first.text.count(sentence) == 1
    assert hits[0].text == top.text  # the hits given are not changed in place


def test_the_whole_page_when_it_is_shorter_than_the_window(files, store, small_parser):
    kb = store.get("w", create=True)
    ingest_files(
        kb, [(files.pdf("b.pdf", ["".join(PAGE1[:4]), "".join(PAGE2)]), "b.pdf")], small_parser
    )
    hits = [h for h in search(kb, "编号2的零件由几号车间生产？", SearchOptions(k=5)) if h.page == 1]
    widened = "".join(widen_hits(kb, hits[:1], 2000)[0].text.split())  # the PDF's line breaks aside
    assert all(widened.count(s) == 1 for s in PAGE1[:4])
    assert "第二页" not in widened


# One long sentence, longer than a chunk: the splitter has to cut it, wherever the answer falls.
LINE = (
    "本线现时使用的列车是由日本青年公司于二零一五年在其位于名古屋的工厂制造的JPN6120GR型十二卡交流电动列车组"
    "并由九广铁路公司设在火炭的车厂负责日常保养与定期大修工作以确保全线列车在每日早晚繁忙时段也能长期安全可靠地"
    "运行和准点到站而不影响乘客出行。"
)
TEXT = (
    "港铁东铁线是香港第一条铁路。它连接九龙与新界北部。"
    + LINE
    + "沿线共有十四个车站。每日载客量约为八十万人次。"
)


@pytest.fixture()
def line_parser():
    parser = IsolatedParser(LoadLimits(), ChineseTextSplitter(100, 20))
    yield parser
    parser.close()


def test_a_text_answer_cut_at_a_chunk_boundary_arrives_whole(files, store, line_parser):
    kb = store.get("w", create=True)
    other = files.text("other.txt", "另一份文件。" + "九广铁路公司还经营巴士服务。" * 3)
    ingest_files(
        kb, [(files.text("line.txt", TEXT), "line.txt"), (other, "other.txt")], line_parser
    )
    hits = search(kb, "本线现时使用的列车是哪一年由哪家公司制造的？", SearchOptions(k=3))
    top = next(h for h in hits if h.source == "line.txt")
    assert top.page is None and LINE not in top.text  # the sentence was cut by the splitter

    widened = widen_hits(kb, hits, 100)
    first = widened[hits.index(top)]
    assert first.text.count(LINE) == 1  # finished from the neighbour, its overlap said once
    assert (first.chunk_id, first.score, first.source) == (top.chunk_id, top.score, top.source)
    # never another document's
    assert all("巴士" not in h.text for h in widened if h.source == "line.txt")
    # 0: the matched chunk alone
    assert [h.text for h in widen_hits(kb, hits, 0)] == [h.text for h in hits]


def test_a_short_markdown_hit_is_widened_with_its_document_neighbours(tmp_path, store, line_parser):
    kb = store.get("w", create=True)
    note = tmp_path / "note.md"
    note.write_text(
        "# 仓库\n\n"
        + "".join(PAGE2[:6])
        + "\n\n## 发货\n\n"
        + "".join(PAGE2[6:])
        + "\n\n## 零件\n\n"
        + "".join(PAGE1),
        encoding="utf-8",
    )
    ingest_files(kb, [(note, "note.md")], line_parser)
    hits = search(kb, "编号3的订单在哪个仓库发货？", SearchOptions(k=2))
    assert hits and hits[0].page is None and len(hits[0].text) <= 100
    wide = widen_hits(kb, hits, 250)[0].text
    assert hits[0].text in wide and 250 <= len(wide) < 400
    assert all(wide.count(s) <= 1 for s in PAGE2)


class FakeKB:
    """Chunks by id, as ``KnowledgeBase.get_chunks`` returns them."""

    def __init__(self, texts: list[str], doc_id: str = "d", page: int | None = None):
        self.chunks = {
            f"{doc_id}-{n}": {"text": t, "metadata": {"doc_id": doc_id, "page": page}}
            for n, t in enumerate(texts)
        }

    def get_chunks(self, ids):
        return {i: self.chunks[i] for i in ids if i in self.chunks}


def test_a_sentence_cut_between_words_is_finished_with_a_space():
    from retrieval import Hit

    kb = FakeKB(
        [
            "Intro line. The 2015 trains were built by",
            "Nippon Sharyo in Japan. Later text follows here.",
        ]
    )
    hit = Hit(
        text="Intro line. The 2015 trains were built by",
        score=1.0,
        source="a.txt",
        page=None,
        doc_id="d",
        chunk_id="d-0",
    )
    assert (
        widen_hits(kb, [hit], 10)[0].text
        == "Intro line. The 2015 trains were built by Nippon Sharyo in Japan."
    )
    back = Hit(
        text="Nippon Sharyo in Japan. Later text follows here.",
        score=1.0,
        source="a.txt",
        page=None,
        doc_id="d",
        chunk_id="d-1",
    )
    assert widen_hits(kb, [back], 10)[0].text.startswith(
        "The 2015 trains were built by Nippon Sharyo in Japan."
    )
