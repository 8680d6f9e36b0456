"""PDF: PyMuPDF page by page, pdfplumber tables as Markdown, offline OCR for pages without text."""

import json
import re
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from ingest.errors import IngestError
from ingest.loaders.common import LoadLimits, PageProgress
from ingest.loaders.furniture import is_contents_page, strip_furniture

# A page with less visible text than this is treated as scanned and OCR'd.
_MIN_TEXT_CHARS = 20


def load_pdf(path: Path, limits: LoadLimits, on_page: PageProgress | None = None) -> list[Document]:
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF" not in head:
        raise IngestError("not a PDF file (no %PDF header)")
    try:
        pdf = pymupdf.open(str(path), filetype="pdf")
    except Exception as exc:
        raise IngestError(f"damaged PDF that cannot be opened ({_short(exc)})") from None
    with pdf:
        _unlock(pdf)
        try:
            page_count = pdf.page_count
        except Exception as exc:
            raise IngestError(f"damaged PDF: cannot read its pages ({_short(exc)})") from None
        if page_count == 0:
            raise IngestError("damaged PDF: it has no readable pages")
        if page_count > limits.max_pages:
            raise IngestError(f"too many pages: {page_count} (limit {limits.max_pages})")
        return _read_pages(pdf, path, limits, on_page)


def _unlock(pdf) -> None:
    if pdf.needs_pass and not pdf.authenticate(""):
        raise IngestError("encrypted PDF: a password is needed to open it")


def _read_pages(
    pdf, path: Path, limits: LoadLimits, on_page: PageProgress | None
) -> list[Document]:
    docs: list[Document] = []
    title = _title(pdf)
    headings = _page_headings(pdf)
    ocr = _LazyOCR()
    tables = _LazyTables(path) if limits.tables else None
    skipped_images = 0
    damaged_pages = 0
    try:
        for index in range(pdf.page_count):
            ocr_used, ocr_lines = False, []
            try:
                page = pdf[index]
                text = _page_text(page, index, tables)
                if len(text.strip()) < _MIN_TEXT_CHARS and limits.ocr and page.get_images():
                    if _has_oversized_image(page, limits):
                        skipped_images += 1
                    else:
                        ocr_lines, ocr_used = ocr.read(page, limits.ocr_dpi), True
                        text = "\n".join(line[4] for line in ocr_lines) or text
            except IngestError:
                raise
            except Exception:
                damaged_pages += 1
                continue
            finally:
                if on_page is not None:
                    on_page(index + 1, pdf.page_count, ocr_used)
            text = tidy_text(text)
            if text:
                at_start, starting_here = headings.get(index + 1, ("", ""))
                meta = {"page": index + 1, "page_count": pdf.page_count, "headings": at_start}
                if starting_here:
                    meta["heading_starts"] = starting_here
                if title:
                    meta["title"] = title
                if is_contents_page(text):
                    meta["contents"] = True
                # where each recognised line is: the source preview highlights by these
                if ocr_lines:
                    meta["ocr_lines"] = json.dumps(ocr_lines, ensure_ascii=False)
                docs.append(Document(page_content=text, metadata=meta))
    finally:
        if tables is not None:
            tables.close()
    if not docs:
        raise IngestError(_no_text_reason(skipped_images, damaged_pages, limits))
    return _without_furniture(docs) if limits.strip_furniture else docs


def _without_furniture(docs: list[Document]) -> list[Document]:
    """Running headers, footers and page numbers out of the page texts
    (ingest/loaders/furniture.py)."""
    texts = strip_furniture([d.page_content for d in docs])
    for doc, text in zip(docs, texts):
        doc.page_content = text
    return [d for d in docs if d.page_content]


def _title(pdf) -> str:
    """The PDF's own title (its metadata), unless it is a placeholder a tool wrote."""
    try:
        title = " ".join(str((pdf.metadata or {}).get("title") or "").split())
    except Exception:
        return ""
    if (
        not title
        or title.lower() in {"untitled", "title", "document", "slide 1"}
        or len(title) > 200
    ):
        return ""
    return title


def _page_headings(pdf) -> dict[int, tuple[str, str]]:
    """page -> (path in force where the page starts, paths of the headings that start on it, one a
    line), from the outline (bookmarks); a path is "chapter > section > subsection". Empty without
    an outline. The splitter gives each chunk the path of the last heading that starts before it."""
    try:
        toc = pdf.get_toc(simple=True)
    except Exception:
        return {}
    starts: dict[int, list[str]] = {}
    path: list[str] = []
    for level, text, page in toc:
        text = " ".join(str(text).split())
        if not text or level < 1:
            continue
        path = path[: level - 1] + [text]
        if 1 <= page <= pdf.page_count:
            starts.setdefault(page, []).append(" > ".join(path[:3]))
    out: dict[int, tuple[str, str]] = {}
    current = ""
    for page in range(1, pdf.page_count + 1):
        here = starts.get(page, [])
        if current or here:
            out[page] = (current, "\n".join(here))
        current = here[-1] if here else current
    return out


_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def tidy_text(text: str) -> str:
    """Layout-sorted extraction pads with runs of spaces and blank lines; keep one of each."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _no_text_reason(skipped_images: int, damaged_pages: int, limits: LoadLimits) -> str:
    if skipped_images:
        return (
            "no text layer, and its images are too large to OCR safely "
            f"(over {limits.max_image_pixels // 1_000_000} megapixels; possible decompression bomb)"
        )
    if damaged_pages:
        return f"damaged PDF: none of its pages could be read ({damaged_pages} failed)"
    if not limits.ocr:
        return "no text layer (image-only PDF) and OCR is turned off"
    return "no text found, even after OCR"


def _page_text(page, index: int, tables) -> str:
    found = tables.tables_on(index, page) if tables is not None else []
    if not found:
        return page.get_text("text")
    # Text outside the tables, with each table placed at its vertical position as Markdown.
    pieces: list[tuple[float, str]] = []
    for x0, y0, x1, y1, text, *_ in page.get_text("blocks", sort=True):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b, _ in found):
            pieces.append((y0, text.strip()))
    pieces += [(bbox[1], markdown) for bbox, markdown in found]
    pieces.sort(key=lambda item: item[0])
    return "\n\n".join(text for _, text in pieces if text)


def _has_oversized_image(page, limits: LoadLimits) -> bool:
    for info in page.get_images(full=True):
        width, height = info[2], info[3]
        if width * height > limits.max_image_pixels:
            return True
    return False


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


class _LazyOCR:
    """RapidOCR (PP-OCRv4 zh+en, models inside the wheel), loaded on the first scanned page."""

    def __init__(self):
        self._engine = None

    def read(self, page, dpi: int) -> list[list]:
        """The page's recognised lines, each ``[x0, y0, x1, y1, text]`` in page points, in reading
        order."""
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            self._engine = RapidOCR()
        pix = page.get_pixmap(dpi=dpi)
        result, _ = self._engine(pix.tobytes("png"))
        scale = 72 / dpi
        lines = []
        for box, text, *_ in result or []:
            if text.strip():
                xs, ys = [p[0] for p in box], [p[1] for p in box]
                lines.append(
                    [
                        round(min(xs) * scale, 1),
                        round(min(ys) * scale, 1),
                        round(max(xs) * scale, 1),
                        round(max(ys) * scale, 1),
                        text,
                    ]
                )
        return lines


class _LazyTables:
    """pdfplumber tables, only on pages whose drawings suggest a ruled table (pdfplumber is
    slow)."""

    def __init__(self, path: Path):
        self._path = path
        self._pdf: Any = None  # a pdfplumber PDF, opened on the first page that may hold a table

    def tables_on(self, index: int, page) -> list[tuple[tuple, str]]:
        if not _may_have_table(page):
            return []
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(str(self._path))
            found = self._pdf.pages[index].find_tables()
            out = []
            for table in found:
                rows = [r for r in table.extract() if r and any(c for c in r)]
                if len(rows) >= 2 and max(len(r) for r in rows) >= 2:
                    from ingest.loaders.tables import rows_to_markdown

                    out.append((table.bbox, rows_to_markdown(rows)))
            return out
        except Exception:
            return []  # a table we cannot read falls back to the plain text of the page

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()


def _may_have_table(page) -> bool:
    try:
        lines = 0
        for path in page.get_drawings():
            for item in path["items"]:
                if item[0] in ("l", "re"):
                    lines += 1
            if lines >= 6:
                return True
    except Exception:
        return False
    return False
