"""One PDF page as a PNG with a passage highlighted: what a person checks a citation against.

The passage is found on the page by its own text (PyMuPDF's ``search_for``, line by line, so a chunk
that spans lines, table cells or a page's reading order is still found). An OCR'd page has no text
layer to search: there the boxes of the recognised lines, recorded at ingest, place the passage.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import IngestError

_HIGHLIGHT = (1.0, 0.82, 0.0)  # amber, drawn at 35% opacity over the text
_SUPPORT = (0.95, 0.45, 0.1)  # orange over the amber: the sentence that supports the answer
_MIN_FRAGMENT = 4
_MAX_FRAGMENTS = 60
_PIECE = 12  # a line that is not found whole is looked for in pieces of this many characters


@dataclass
class PagePreview:
    png: bytes
    width: int
    height: int
    page: int
    pages: int
    # highlight, image pixels
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    # the supporting sentence's boxes, inside the passage's
    support_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)


def render_page(
    path: str | Path,
    page: int,
    passage: str = "",
    max_side: int = 1400,
    max_image_pixels: int = 40_000_000,
    ocr_lines: list | None = None,
    support: str = "",
) -> PagePreview:
    """``page`` is 1-based; ``ocr_lines`` (``[x0, y0, x1, y1, text]`` in points, recorded when the
    page was OCR'd) place a passage on a page without a text layer; ``support``, a sentence of the
    passage, is drawn over it more strongly and underlined (``support_boxes``). IngestError (one
    sentence) for a page out of range or one too costly to draw."""
    import pymupdf

    with pymupdf.open(str(path), filetype="pdf") as pdf:
        if not 1 <= page <= pdf.page_count:
            raise IngestError(
                f"page {page} is out of range (the document has {pdf.page_count} pages)"
            )
        sheet = pdf[page - 1]
        if any(info[2] * info[3] > max_image_pixels for info in sheet.get_images(full=True)):
            raise IngestError("this page holds an image too large to draw safely")
        rects = locate(sheet, passage) if passage.strip() else []
        if not rects and ocr_lines and passage.strip():
            rects = locate_ocr_lines(ocr_lines, passage)
        for rect in rects:
            sheet.draw_rect(rect, color=None, fill=_HIGHLIGHT, fill_opacity=0.35, overlay=True)
        strong = [  # the sentence where the passage is, not another copy of it on the page
            r
            for r in (locate(sheet, support) if rects and support.strip() else [])
            if any(r.intersects(p) for p in rects)
        ]
        for rect in strong:
            sheet.draw_rect(rect, color=None, fill=_SUPPORT, fill_opacity=0.35, overlay=True)
            sheet.draw_line(rect.bl, rect.br, color=_SUPPORT, width=1.2, overlay=True)
        zoom = min(2.0, max_side / max(sheet.rect.width, sheet.rect.height, 1))
        pixmap = sheet.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        boxes = [(r.x0 * zoom, r.y0 * zoom, r.x1 * zoom, r.y1 * zoom) for r in rects]
        support_boxes = [(r.x0 * zoom, r.y0 * zoom, r.x1 * zoom, r.y1 * zoom) for r in strong]
        return PagePreview(
            pixmap.tobytes("png"),
            pixmap.width,
            pixmap.height,
            page,
            pdf.page_count,
            boxes,
            support_boxes,
        )


def locate(sheet, passage: str) -> list:
    """Rectangles (page points) of the passage's text on the page; empty when it is not on it.

    A chunk is one contiguous stretch of the page, while a phrase it shares with other parts of the
    page
    (a repeated heading, a common sentence) is found there too: of the groups of nearby lines found,
    the
    one that holds the most of the passage's text is kept, and so is any other holding text that is
    found nowhere else."""
    found: list[tuple[object, int]] = []  # (rect, fragment number)
    for number, fragment in enumerate(fragments(passage)[:_MAX_FRAGMENTS]):
        rects = sheet.search_for(fragment)
        # e.g. a line break on the page inside the fragment
        if not rects and len(fragment) > _PIECE:
            pieces = [fragment[i : i + _PIECE] for i in range(0, len(fragment), _PIECE)]
            rects = [
                r
                for piece in pieces
                if len(piece) >= _MIN_FRAGMENT
                for r in sheet.search_for(piece)
            ]
        found.extend((rect, number) for rect in rects)
    if not found:
        return []
    lengths = [len(f) for f in fragments(passage)[:_MAX_FRAGMENTS]]
    groups = _nearby_groups(found)
    best = max(groups, key=lambda g: sum(lengths[n] for n in {number for _, number in g}))
    seen_in: dict[int, set[int]] = {}
    for i, group in enumerate(groups):
        for _, number in group:
            seen_in.setdefault(number, set()).add(i)
    # also keep a group that holds text found nowhere else on the page (a chunk may run over a gap)
    kept = [g for i, g in enumerate(groups) if g is best or any(seen_in[n] == {i} for _, n in g)]
    return [rect for group in kept for rect, _ in group]


def _nearby_groups(found: list) -> list[list]:
    """Rectangles grouped by vertical nearness: a gap of more than two line heights starts a new
    group."""
    ordered = sorted(found, key=lambda item: (item[0].y0, item[0].x0))
    line = sorted(r.height for r, _ in ordered)[len(ordered) // 2] or 12.0
    groups: list[list] = []
    bottom: float | None = None
    for rect, number in ordered:
        if bottom is None or rect.y0 - bottom > 2 * line:
            groups.append([])
        groups[-1].append((rect, number))
        bottom = max(bottom or rect.y1, rect.y1)
    return groups


def locate_ocr_lines(ocr_lines: list, passage: str) -> list:
    """Rectangles of the recognised lines whose text is in the passage (an OCR'd page has no text to
    search)."""
    import pymupdf

    wanted = _squeezed(passage)
    return [
        pymupdf.Rect(*line[:4])
        for line in ocr_lines
        if len(_squeezed(line[4])) >= 2 and _squeezed(line[4]) in wanted
    ]


def _squeezed(text: str) -> str:
    return "".join(text.split())


_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}")


def fragments(passage: str) -> list[str]:
    """Searchable pieces of a chunk: its lines, without Markdown marks; a table row gives its
    cells."""
    out: list[str] = []
    for line in passage.splitlines():
        line = line.strip().lstrip("#").strip()
        if _TABLE_RULE.match(line):
            continue
        pieces = [cell.strip() for cell in line.split("|")] if line.startswith("|") else [line]
        out.extend(p for p in pieces if len(p) >= _MIN_FRAGMENT or _is_cjk(p))
    return out


def _is_cjk(text: str) -> bool:
    return len(text) >= 2 and all("\u4e00" <= c <= "\u9fff" for c in text)
