"""Issue 38, item 7, through a real browser: a formula that a PDF's text layer holds one symbol a
line reads as lines, in the cited passage and in the answer, not as a column of tokens."""

import re

import pytest

from tests.test_ui_open_box import _create_and_upload, _wait_until_settled, page, serving

pytestmark = [pytest.mark.browser, pytest.mark.slow]
__all__ = ["page"]  # the fixture, shared with the open-box walk

FORMULA = ["TNR =", "TN", "FP + TN", "FNR =", "FN", "TP + FN"]
# a run of three lines of at most two characters each: a formula's column
COLUMN = re.compile(r"(?:^\s*\S{1,2}\s*\n){3}", re.MULTILINE)


def formula_pdf(path):
    """One page: a paragraph about the rates, then their formulas drawn a piece a line, as a
    typeset fraction comes out of a PDF's text layer."""
    import pymupdf

    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    page.insert_textbox(
        pymupdf.Rect(50, 50, 545, 160),
        "除了真正例率和假正例率，还有真反例率 TNR 和假反例率 FNR，它们的定义如下：",
        fontsize=11,
        fontname="china-s",
    )
    for n, piece in enumerate(FORMULA):
        page.insert_text((80, 190 + 22 * n), piece, fontsize=11)
    page.insert_textbox(
        pymupdf.Rect(50, 340, 545, 420),
        "真反例率表示所有反例当中被正确预测为反例的比例。",
        fontsize=11,
        fontname="china-s",
    )
    pdf.save(str(path))
    pdf.close()
    return path


def test_a_formula_reads_as_lines_in_the_source_and_the_answer(page, tmp_path):
    from playwright.sync_api import expect

    book = formula_pdf(tmp_path / "公式.pdf")
    with serving(tmp_path / "server") as url:
        _create_and_upload(page, url, book, kb_name="公式")
        page.get_by_role("tab", name="问答 Chat").click()
        question = "真反例率 TNR 的公式是什么？"
        page.locator("#question textarea").fill(question)
        page.locator("#question textarea").press("Enter")
        chat = page.locator("#chatbot")
        _wait_until_settled(chat, question)
        expect(page.locator("#source-passage")).to_contain_text("TNR = TN FP + TN", timeout=60_000)
        answer = page.locator("#chatbot .message.bot, #chatbot [data-testid='bot']").last
        shown = answer.inner_text()
        assert not COLUMN.search(shown), shown
