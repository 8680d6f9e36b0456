"""Long documents: page-aware chunks, the title/heading path given to the index, one hit per page,
Traditional/Simplified and full-/half-width folding. Real PDFs written by PyMuPDF, the real
embedder."""

import pymupdf
import pytest
from langchain_core.documents import Document

from ingest import ChineseTextSplitter, ingest_files, load_file
from retrieval import SearchOptions, search
from retrieval.context import chunk_context, index_text
from retrieval.keyword import Tokenizer
from retrieval.normalize import fold, to_simplified


def _book(path, title: str | None, pages: list[str], toc: list[list] | None = None):
    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        page.insert_textbox(pymupdf.Rect(50, 50, 545, 800), text, fontsize=11, fontname="china-s")
    if title:
        doc.set_metadata({"title": title})
    if toc:
        doc.set_toc(toc)
    doc.save(str(path))
    doc.close()
    return path


# ------------------------------------------------------------------ page-aware chunks


def test_chunks_never_span_two_pages(tmp_path):
    pages = [
        f"第{n}页的内容。" + f"这是第{n}页上的一句话，用来把页面撑长。" * 12 for n in range(1, 4)
    ]
    pdf = _book(tmp_path / "b.pdf", None, pages)
    chunks = ChineseTextSplitter(chunk_size=120, chunk_overlap=20).split_documents(load_file(pdf))
    assert {c.metadata["page"] for c in chunks} == {1, 2, 3}
    for chunk in chunks:
        page = chunk.metadata["page"]
        assert f"第{page}页" in chunk.page_content
        assert not any(f"第{other}页" in chunk.page_content for other in (1, 2, 3) if other != page)


def test_pages_split_finer_than_unpaged_text(tmp_path):
    """A PDF page is split at page_chunk_size; Markdown/text (no page) at chunk_size."""
    prose = "".join(f"这是第{n}句话，讲一个和上一句不同的细节。" for n in range(40))
    splitter = ChineseTextSplitter(
        chunk_size=300, chunk_overlap=30, page_chunk_size=120, page_chunk_overlap=15
    )
    paged = splitter.split_documents([Document(page_content=prose, metadata={"page": 1})])
    unpaged = splitter.split_documents(
        [Document(page_content=prose, metadata={"headings": "指南"})]
    )
    assert (
        max(len(c.page_content) for c in paged)
        <= 120
        < max(len(c.page_content) for c in unpaged)
        <= 300
    )
    assert len(paged) > len(unpaged)
    # no page size given: pages split like text
    same = ChineseTextSplitter(chunk_size=300, chunk_overlap=30)
    assert [
        c.page_content
        for c in same.split_documents([Document(page_content=prose, metadata={"page": 1})])
    ] == [c.page_content for c in unpaged]
    with pytest.raises(ValueError, match="page_chunk_overlap"):
        ChineseTextSplitter(
            chunk_size=300, chunk_overlap=30, page_chunk_size=100, page_chunk_overlap=100
        )


def test_parsing_worker_splits_pages_at_the_page_chunk_size(tmp_path):
    """The splitter's page size reaches the isolated parsing process (it builds its own
    splitter)."""
    from ingest import IsolatedParser, LoadLimits

    pages = [
        "".join(f"第{n}页第{i}句，这一句说的是另一件事。" for i in range(25)) for n in range(1, 3)
    ]
    pdf = _book(tmp_path / "p.pdf", None, pages)
    parser = IsolatedParser(
        LoadLimits(), ChineseTextSplitter(400, 50, page_chunk_size=100, page_chunk_overlap=10)
    )
    try:
        parsed = parser.parse(pdf, "p.pdf")
    finally:
        parser.close()
    assert {c.metadata["page"] for c in parsed.chunks} == {1, 2}
    assert max(len(c.page_content) for c in parsed.chunks) <= 100


def test_outline_gives_each_chunk_its_heading_path(tmp_path):
    pages = [
        "第6章 支持向量机\n" + "支持向量机求解离两类样本都尽可能远的划分超平面。" * 6,
        "6.1 间隔\n"
        + "间隔是样本到超平面的最小距离。" * 8
        + "\n6.2 对偶问题\n"
        + "拉格朗日乘子把主问题变成对偶问题。" * 8,
        "拉格朗日对偶函数是主问题最优值的下界。" * 8,
    ]
    toc = [[1, "支持向量机", 1], [2, "间隔", 2], [2, "对偶问题", 2]]
    pdf = _book(tmp_path / "svm.pdf", "机器学习公式详解", pages, toc)
    docs = load_file(pdf)
    assert [d.metadata["headings"] for d in docs] == ["", "支持向量机", "支持向量机 > 对偶问题"]
    assert all(d.metadata["title"] == "机器学习公式详解" for d in docs)
    chunks = ChineseTextSplitter(chunk_size=100, chunk_overlap=0).split_documents(docs)
    page2 = [c for c in chunks if c.metadata["page"] == 2]
    assert page2[0].metadata["headings"] == "支持向量机 > 间隔"
    assert page2[-1].metadata["headings"] == "支持向量机 > 对偶问题"
    assert all("heading_starts" not in c.metadata for c in chunks)  # consumed by the splitter
    # a page with no heading of its own is under the last one before it
    assert {c.metadata["headings"] for c in chunks if c.metadata["page"] == 3} == {
        "支持向量机 > 对偶问题"
    }


def test_pdf_without_outline_or_title(tmp_path):
    docs = load_file(_book(tmp_path / "plain.pdf", None, ["没有书签的文档，只有正文。" * 3]))
    assert docs[0].metadata["headings"] == "" and "title" not in docs[0].metadata


# ------------------------------------------------------------------ title / heading context


def test_chunk_context_joins_title_and_headings_once():
    assert (
        chunk_context({"title": "Super_Bowl_50", "headings": "Super Bowl 50 > Broadcasting"})
        == "Super Bowl 50 > Broadcasting"
    )
    assert (
        chunk_context({"title": "南瓜书", "headings": "支持向量机 > 对偶问题"})
        == "南瓜书 > 支持向量机 > 对偶问题"
    )
    assert chunk_context({"headings": "# 猫 > 饮食"}) == "猫 > 饮食"
    assert chunk_context({}) == ""


def test_index_text_leads_with_context_but_not_twice():
    meta = {"title": "南瓜书", "headings": "支持向量机"}
    assert index_text("对偶问题的推导。", meta) == "南瓜书 > 支持向量机\n对偶问题的推导。"
    assert index_text("南瓜书 > 支持向量机\n正文", meta) == "南瓜书 > 支持向量机\n正文"
    assert index_text("正文", {}) == "正文"


def test_heading_context_finds_the_page_that_never_names_its_subject(tmp_path, store, parser):
    """Page 2 talks about "the dual problem" without saying "支持向量机"; only its chapter heading
    does. Page 1 of another chapter names 支持向量机 in passing. With the heading path indexed, page
    2 wins."""
    pages = [
        "本章讲决策树。决策树的剪枝可以降低过拟合，和支持向量机的软间隔一样都是为了泛化。" * 3,
        "把主问题的约束乘以拉格朗日乘子，求出对偶函数，再对乘子求极大，就得到对偶问题。" * 3,
    ]
    toc = [[1, "决策树", 1], [1, "支持向量机", 2]]
    pdf = _book(tmp_path / "book.pdf", "机器学习公式详解", pages, toc)
    kb = store.create("long")
    ingest_files(kb, [(pdf, "book.pdf")], parser)
    hits = search(kb, "支持向量机的对偶问题", SearchOptions(k=2))
    assert hits[0].page == 2
    # the stored text is the page's own, without the context
    assert hits[0].text.startswith("把主问题")
    assert hits[0].headings == "支持向量机"


def test_store_without_chunk_context_indexes_plain_text(tmp_path, embeddings):
    from retrieval import KnowledgeBaseStore, open_chroma_client

    plain = KnowledgeBaseStore(
        open_chroma_client(path=tmp_path / "c"),
        embeddings,
        tmp_path / "k.sqlite",
        chunk_context=False,
    )
    kb = plain.create("plain")
    chunk = Document(page_content="正文", metadata={"title": "独特书名", "page": 1})
    kb.add_document("d" * 64, "a.pdf", [chunk], 1)
    assert kb.keyword.search(kb.id, "独特书名", 5) == []
    assert kb.keyword.search(kb.id, "正文", 5)


# ------------------------------------------------------------------ one hit per page


def test_one_hit_per_page(tmp_path, store, parser):
    page = "对偶问题。" + "对偶问题的推导需要拉格朗日乘子，" * 30
    pdf = _book(tmp_path / "p.pdf", None, [page, "决策树用信息增益选择划分属性。" * 10])
    kb = store.create("pages")
    ingest_files(kb, [(pdf, "p.pdf")], parser)
    crowded = search(kb, "对偶问题的推导", SearchOptions(k=3, per_page=False))
    assert [h.page for h in crowded].count(1) > 1
    grouped = search(kb, "对偶问题的推导", SearchOptions(k=3, per_page=True))
    assert [h.page for h in grouped] == [1, 2]


# ------------------------------------------------------------------ folding


def test_fold_width_case_and_script():
    assert fold("ＳＶＭ　２０２４") == "svm 2024"
    assert to_simplified("支持向量機的對偶問題") == "支持向量机的对偶问题"
    assert to_simplified("支持向量机 plain English") == "支持向量机 plain English"


def test_keyword_tokens_meet_across_scripts_and_widths():
    tok = Tokenizer()
    assert set(tok.query_terms("支持向量機")) & set(tok.tokens("支持向量机的对偶问题"))
    assert "svm" in tok.query_terms("ＳＶＭ是什么")


@pytest.mark.parametrize("question", ["支持向量機的對偶問題", "支持向量机的对偶问题"])
def test_traditional_question_finds_simplified_page_and_back(tmp_path, store, parser, question):
    from opencc_purepy import OpenCC

    s2t = OpenCC("s2t").convert
    text = "支持向量机的对偶问题由拉格朗日乘子法得到。"
    kb = store.create("scripts")
    paths = [
        _book(tmp_path / "s.pdf", None, [text * 4]),
        _book(tmp_path / "t.pdf", None, [s2t(text) * 4]),
        _book(tmp_path / "x.pdf", None, ["决策树用信息增益选择划分属性。" * 4]),
    ]
    ingest_files(kb, [(p, p.name) for p in paths], parser)
    for mode in ("keyword", "hybrid"):
        hits = search(kb, question, SearchOptions(k=2, mode=mode))
        assert {h.source for h in hits} == {"s.pdf", "t.pdf"}, mode


def test_english_words_meet_through_their_stem():
    tok = Tokenizer()
    assert tok.tokens("represented cities") == tok.tokens("Represents city")
    # stop words are dropped in stemmed form too
    assert "doe" not in tok.query_terms("What does it do?")


def test_keyword_coverage_is_low_for_a_question_in_the_other_language(tmp_path):
    from retrieval.keyword import KeywordIndex

    index = KeywordIndex(tmp_path / "k.sqlite")
    index.add("kb1", "d1", [("c1", "支持向量机的对偶问题由拉格朗日乘子法得到，NFL 1998。")])
    assert index.coverage("kb1", "支持向量机的对偶问题") == 1.0
    assert index.coverage("kb1", "How is the dual problem of the SVM derived in 1998?") < 0.5
    assert index.coverage("kb1", "") == 0.0 and index.coverage("other", "对偶") == 0.0
    index.close()
