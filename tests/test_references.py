"""Numbered references (式(13.6), Eq. (4.2)) as whole tokens that rank the page holding them first,
an older keyword index brought up to date on open. Real PDFs written by PyMuPDF, the real embedder.
"""

import pymupdf

from ingest import ChineseTextSplitter, ingest_files, load_file
from retrieval import KnowledgeBaseStore, SearchOptions, open_chroma_client, search
from retrieval.keyword import Tokenizer
from retrieval.normalize import fold
from retrieval.references import find_references, reference_tokens

# Chapter 13 of a textbook: every page says 13 and 6 many times, one page prints the equation
# (13.6).
_FILLER = (
    "第13章讨论半监督学习。本节用6个样本说明未标记样本的作用，第13章的推导都基于生成式模型，"
    "高斯混合模型有6个参数需要估计，13个样本里有6个带标记。"
)


def _pdf(path, pages: list[str], font: str = "china-s"):
    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page(width=595, height=842)
        page.insert_textbox(pymupdf.Rect(50, 50, 545, 800), text, fontsize=11, fontname=font)
    doc.save(str(path))
    doc.close()
    return path


def _ingest(store, kb_name: str, pdf) -> None:
    from ingest import IsolatedParser, LoadLimits

    parser = IsolatedParser(LoadLimits(), ChineseTextSplitter())
    try:
        stats = ingest_files(store.get(kb_name, create=True), [(pdf, pdf.name)], parser)
    finally:
        parser.close()
    assert [o.status for o in stats.outcomes] == ["indexed"], stats.outcomes


def test_labels_and_forms_people_write():
    def tokens(text):
        return reference_tokens(fold(text))

    assert tokens("请推导出式(13.6)并解释其含义") == ["eq13p6"]
    assert tokens("公式（13.6）") == tokens("式13.6") == tokens("(13.6)") == ["eq13p6"]
    assert tokens("图 3.2 和表4.1") == ["fig3p2", "tab4p1"]
    assert tokens("定理 2.3") == ["thm2p3"]
    assert tokens("Eq. (4.2)") == tokens("equation 4.2") == ["eq4p2"]
    assert tokens("Fig. 2 and Table 3, Section 2.1") == ["fig2", "tab3", "sec2p1"]
    assert tokens("第3章") == ["ch3"] and tokens("13.2.6节") == ["sec13p2p6"]
    assert tokens("例如3个样本") == [] and tokens("3.5 million people") == []
    assert [r.number for r in find_references(fold("式(6.9) 和式(6.10)"))] == ["6.9", "6.10"]


def test_dotted_numbers_are_one_token():
    tokens = Tokenizer().tokens("即得式(13.6)。参考9.33 的推导")
    assert "n13p6" in tokens and "eq13p6" in tokens and "n9p33" in tokens
    assert "13" not in tokens and "6" not in tokens  # no longer cut into the chapter's every number
    assert "13" in Tokenizer(numbered_references=False).tokens("即得式(13.6)")


def test_question_naming_an_equation_finds_its_page_first(tmp_path, store):
    pages = [_FILLER * 3 + f"\n由此可得式(13.{n})的结论。" for n in range(1, 5)]
    pages.insert(
        2,
        _FILLER * 2
        + "\n对均值求偏导并令其为零，移项整理得\nμi = Σ γji xj / Σ γji        (13.6)\n"
        + _FILLER,
    )
    pdf = _pdf(tmp_path / "chapter13.pdf", pages)
    _ingest(store, "book", pdf)
    kb = store.get("book")
    for question in ("请推导出式(13.6)并解释其含义", "公式13.6是怎么来的？", "Explain Eq. (13.6)"):
        hits = search(kb, question, SearchOptions(k=5))
        assert hits[0].page == 3, (question, [h.page for h in hits])


def test_english_equation_reference(tmp_path, store):
    body = (
        "Section 4 studies the learning rate. The model has 4 layers and 2 heads; "
        "table 4 and figure 2 report the training loss of 4 runs. " * 4
    )
    pages = [body + f"\nThe update rule follows from equation (4.{n})." for n in (1, 3, 4)]
    pages.insert(
        1,
        body + "\nThe gradient of the loss with respect to the weights is\n"
        "g = X^T (Xw - y) / n        (4.2)\n" + body,
    )
    pdf = _pdf(tmp_path / "paper.pdf", pages, font="helv")
    _ingest(store, "paper", pdf)
    hits = search(store.get("paper"), "What does Eq. (4.2) compute?", SearchOptions(k=5))
    assert hits[0].page == 2, [h.page for h in hits]


def test_keyword_index_built_by_the_older_tokenizer_is_rebuilt_on_open(tmp_path, embeddings):
    pdf = _pdf(tmp_path / "c.pdf", [_FILLER * 2 + "\n整理得 (13.6)", _FILLER * 3])

    def open_store(numbered_references: bool):
        return KnowledgeBaseStore(
            open_chroma_client(path=tmp_path / "chroma"),
            embeddings,
            tmp_path / "keyword.sqlite",
            numbered_references=numbered_references,
        )

    old = open_store(False)
    _ingest(old, "kb", pdf)
    assert old.get("kb").reference_matches("式(13.6)", 10) == {}
    old.keyword.close()

    kb = open_store(True).get("kb")  # the index is emptied on open, the knowledge base refills it
    held = kb.reference_matches("式(13.6)", 10)
    assert len(held) == 1 and kb.get_chunks(list(held))[next(iter(held))]["metadata"]["page"] == 1
    # every document came back, not only the matching chunk
    assert kb.keyword_search("半监督学习", 5)


def test_load_file_keeps_dotted_numbers_in_text(tmp_path):
    pdf = _pdf(tmp_path / "t.pdf", ["见式(13.6)与图 3.2。"])
    assert "(13.6)" in load_file(pdf)[0].page_content
