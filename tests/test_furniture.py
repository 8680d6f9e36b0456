"""Page furniture (running headers, footers, page numbers) kept out of chunks; the citation
highlight lands on the chunk's own lines, also on a formula page, never on the footer. Real PDFs
written by PyMuPDF."""

import pymupdf

from ingest import ChineseTextSplitter, load_file
from ingest.loaders.furniture import furniture_keys, strip_furniture
from ingest.preview import render_page

HEADER = "→_→ 欢迎选购纸质版《机器学习公式详解》 ←_←"
FOOTER = "配套视频教程：https://www.example.org/video/BV1Mh411e7VU"
PROSE = "支持向量机的基本型是一个凸二次规划问题，可以用拉格朗日乘子法得到其对偶问题。"
# How PyMuPDF extracts a typeset sum: one symbol a line.
FORMULA = [
    "L(w, b, α) = 1",
    "2∥w∥2 +",
    "m",
    "X",
    "i=1",
    "αi(1 −yi(wTxi + b))",
    "对w 和b 分别求偏导数并令其为零",
]


def _book(path, pages: int = 6):
    doc = pymupdf.open()
    for n in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((120, 40), HEADER, fontsize=9, fontname="china-s")
        body = f"第{n}节。" + PROSE[n:] + PROSE[:n] if n != 3 else ""
        page.insert_textbox(
            pymupdf.Rect(50, 70, 545, 300), body + f"第{n}页。", fontsize=11, fontname="china-s"
        )
        if n == 3:  # the formula page: a derivation in short lines
            y = 120
            for line in FORMULA * 3:
                page.insert_text((80, y), line, fontsize=11, fontname="china-s")
                y += 16
        page.insert_text((120, 815), FOOTER, fontsize=9, fontname="china-s")
        page.insert_text((290, 830), str(n), fontsize=9, fontname="helv")
    doc.save(str(path))
    doc.close()
    return path


def test_lines_repeated_at_the_edges_of_most_pages_are_furniture():
    words = (
        "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"
        "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏"
    )
    body = [
        ["".join(words[(n * 5 + i * 3 + j) % len(words)] for j in range(8)) for i in range(10)]
        for n in range(8)
    ]
    pages = ["页眉 南瓜书\n" + "\n".join(lines) + f"\n{n + 1}" for n, lines in enumerate(body)]
    assert furniture_keys(pages) == {"页眉南瓜书", "#"}
    stripped = strip_furniture(pages)
    assert stripped[0] == "\n".join(body[0])
    assert strip_furniture(pages[:2]) == pages[:2]  # too few pages to tell furniture from content
    # a continued table's header row stays
    scans = [
        f"第七条年假规定 {n}" for n in range(1, 6)
    ]  # every page one repeated line: that is content
    assert strip_furniture(scans) == scans
    table = [f"| 名称 | 数量 |\n正文{n}\n{n}" for n in range(1, 6)]
    assert all(t.startswith("| 名称") for t in strip_furniture(table))


def test_headers_and_footers_stay_out_of_page_text(tmp_path):
    docs = load_file(_book(tmp_path / "book.pdf"))
    assert len(docs) == 6
    for doc in docs:
        assert "欢迎选购" not in doc.page_content and "配套视频" not in doc.page_content
        assert f"第{doc.metadata['page']}页" in doc.page_content


def test_formula_page_highlight_lands_on_the_chunk_not_the_footer(tmp_path):
    pdf = _book(tmp_path / "book.pdf")
    chunks = ChineseTextSplitter().split_documents(load_file(pdf))
    formula = [c for c in chunks if c.metadata["page"] == 3]
    assert formula and all("配套视频" not in c.page_content for c in formula)
    preview = render_page(pdf, 3, formula[-1].page_content)
    zoom = preview.width / 595
    assert preview.boxes
    footer_top = 800 * zoom
    assert all(box[3] < footer_top for box in preview.boxes), preview.boxes  # nothing on the footer
    formula_rows = (100 * zoom, 120 * zoom + 16 * len(FORMULA) * 3 * zoom)
    assert any(formula_rows[0] < box[1] < formula_rows[1] for box in preview.boxes), preview.boxes
