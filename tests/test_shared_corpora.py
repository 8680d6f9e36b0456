"""Extra tier over ../shared (skipped when absent): real-world PDFs through the loaders."""

import pytest

from ingest import LoadLimits, load_file
from tests.conftest import shared_path

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def test_pumpkin_book_chinese_text_and_1_based_pages():
    book = shared_path("corpora", "llm-universe-kb", "pumkin_book", "pumpkin_book.pdf")
    docs = load_file(book, LoadLimits(ocr=False))
    pages = [d.metadata["page"] for d in docs]
    assert (
        pages[0] == 1
        and pages == sorted(pages)
        and max(pages) == docs[0].metadata["page_count"] == 196
    )
    text = "".join(d.page_content for d in docs[:5])
    assert "南瓜书" in text and "西瓜书" in text
    assert "\ufffd" not in text  # no undecodable glyphs in the Chinese front matter


def test_realworld_pdfs_all_load_with_text():
    folder = shared_path("corpora", "pdfs-realworld")
    for pdf in sorted(folder.glob("*.pdf")):
        docs = load_file(pdf)
        assert docs and sum(len(d.page_content) for d in docs) > 200, pdf.name


def test_scanned_chinese_notice_is_read_by_ocr():
    scan = shared_path("corpora", "pdfs-realworld", "zh_scanned-customs-penalty-notice.pdf")
    text = "".join(d.page_content for d in load_file(scan))
    assert sum("\u4e00" <= c <= "\u9fff" for c in text) > 200
    assert "海关" in text
