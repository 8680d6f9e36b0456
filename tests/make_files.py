"""Builders for small test files in every supported format (PyMuPDF writes the PDFs)."""

from pathlib import Path


class FileFactory:
    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / name

    def text(self, name: str, content: str, encoding: str = "utf-8") -> Path:
        p = self.path(name)
        p.write_bytes(content.encode(encoding))
        return p

    def raw(self, name: str, data: bytes) -> Path:
        p = self.path(name)
        p.write_bytes(data)
        return p

    def pdf(self, name: str, pages: list[str], fontname: str = "china-s", **save_kw) -> Path:
        """One page per string; `china-s` is PyMuPDF's built-in simplified-Chinese font."""
        import pymupdf

        doc = pymupdf.open()
        for text in pages:
            page = doc.new_page(width=595, height=842)
            page.insert_textbox(
                pymupdf.Rect(50, 50, 545, 800), text, fontsize=11, fontname=fontname
            )
        p = self.path(name)
        doc.save(str(p), **save_kw)
        doc.close()
        return p

    def pdf_with_table(self, name: str, intro: str, rows: list[list[str]]) -> Path:
        """A ruled table drawn with lines, the way real reports draw them."""
        import pymupdf

        doc = pymupdf.open()
        page = doc.new_page(width=595, height=842)
        page.insert_textbox(pymupdf.Rect(50, 40, 545, 100), intro, fontsize=11, fontname="china-s")
        x0, y0, cw, rh = 60, 120, 150, 24
        len(rows[0])
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                rect = pymupdf.Rect(x0 + c * cw, y0 + r * rh, x0 + (c + 1) * cw, y0 + (r + 1) * rh)
                page.draw_rect(rect, color=(0, 0, 0), width=0.8)
                page.insert_textbox(rect + (4, 5, -2, 0), cell, fontsize=10, fontname="china-s")
        page.insert_textbox(
            pymupdf.Rect(50, y0 + len(rows) * rh + 30, 545, 800),
            "表格之后的正文。",
            fontsize=11,
            fontname="china-s",
        )
        p = self.path(name)
        doc.save(str(p))
        doc.close()
        return p

    def image_only_pdf(self, name: str, text: str, pages: int = 1) -> Path:
        """'Scanned' pages: the text exists only as pixels (page n says ``text`` and its number)."""
        import pymupdf

        doc = pymupdf.open()
        for n in range(1, pages + 1):
            src = pymupdf.open()
            page = src.new_page(width=400, height=120)
            page.insert_text(
                (20, 70), text if pages == 1 else f"{text} {n}", fontsize=28, fontname="china-s"
            )
            png = page.get_pixmap(dpi=150).tobytes("png")
            src.close()
            page = doc.new_page(width=400, height=120)
            page.insert_image(page.rect, stream=png)
        p = self.path(name)
        doc.save(str(p))
        doc.close()
        return p

    def encrypted_pdf(self, name: str, text: str, user_pw: str = "secret") -> Path:
        import pymupdf

        return self.pdf(
            name, [text], encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=user_pw, owner_pw="owner"
        )

    def docx(
        self, name: str, heading: str, paragraphs: list[str], table: list[list[str]] | None = None
    ) -> Path:
        import docx

        document = docx.Document()
        document.add_heading(heading, level=1)
        for para in paragraphs:
            document.add_paragraph(para)
        if table:
            t = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    t.cell(r, c).text = cell
        p = self.path(name)
        document.save(str(p))
        return p
