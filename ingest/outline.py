"""A document's outline: each entry's level, title, page range and passage (chunk) range.

Where it comes from, best first: a PDF's own outline (bookmarks, PyMuPDF ``get_toc``); a PDF
without one: headings found in its text (ingest/headings.py); Markdown, DOCX and HTML: the heading
paths their loaders put on every chunk. Computed in the parsing worker with the chunks, so the
ranges are those of the passages actually stored.
"""

from dataclasses import asdict, dataclass
from pathlib import Path

from langchain_core.documents import Document

_SEP = " > "


@dataclass(frozen=True)
class OutlineEntry:
    level: int  # 1 = chapter
    title: str
    page_start: int | None  # None: an unpaged format (Markdown, DOCX, HTML)
    page_end: int | None
    chunk_start: int  # the first passage (chunk index) of the section, its subsections included
    chunk_end: int  # the last one, inclusive

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict) -> "OutlineEntry":
        return cls(
            level=int(raw["level"]),
            title=str(raw["title"]),
            page_start=None if raw.get("page_start") is None else int(raw["page_start"]),
            page_end=None if raw.get("page_end") is None else int(raw["page_end"]),
            chunk_start=int(raw["chunk_start"]),
            chunk_end=int(raw["chunk_end"]),
        )


def document_outline(path: Path, chunks: list[Document], pages: int) -> list[OutlineEntry]:
    """The outline of one parsed file (empty when nothing like a heading was found)."""
    if not chunks:
        return []
    if path.suffix.lower() == ".pdf":
        marks = pdf_marks(path)
        return paged_outline(marks, chunks, pages)
    return outline_from_heading_paths(chunks)


def pdf_marks(path: Path) -> list[tuple[int, str, int]]:
    """(level, title, first page) of each heading: the PDF's outline, else headings in its text."""
    import pymupdf

    from ingest.headings import text_headings

    try:
        with pymupdf.open(str(path), filetype="pdf") as pdf:
            if pdf.needs_pass and not pdf.authenticate(""):
                return []
            toc = pdf.get_toc(simple=True)
            marks = [(int(lv), " ".join(str(t).split()), int(p)) for lv, t, p in toc]
            marks = [m for m in marks if m[1] and m[0] >= 1 and 1 <= m[2] <= pdf.page_count]
            return marks or text_headings(pdf)
    except Exception:  # noqa: BLE001  an outline is a bonus: a file that reads without one is fine
        return []


def paged_outline(
    marks: list[tuple[int, str, int]], chunks: list[Document], pages: int
) -> list[OutlineEntry]:
    """Entries from (level, title, first page): a section runs to the page where the next entry
    of its level or above starts; its passages are the chunks on those pages."""
    marks = _without_level_gaps(marks)
    chunk_pages = [int(c.metadata.get("page") or 0) for c in chunks]
    paths = [str(c.metadata.get("headings") or "").split(_SEP) for c in chunks]
    last_page = max([pages, *chunk_pages])
    out: list[OutlineEntry] = []
    for n, (level, title, start) in enumerate(marks):
        following = [p for lv, _, p in marks[n + 1 :] if lv <= level]
        end = max(start, following[0]) if following else last_page
        inside = [i for i, p in enumerate(chunk_pages) if start <= p <= end]
        # the chunks the splitter put under this heading (the PDF outline's first three levels)
        under = [i for i in inside if _under(paths[i], level, title)]
        inside = [i for i in inside if under[0] <= i <= under[-1]] if under else inside
        if not inside:  # a heading on a page with no text kept: the next passage
            later = [i for i, p in enumerate(chunk_pages) if p >= start]
            inside = later[:1] or [len(chunks) - 1]
        out.append(OutlineEntry(level, title, start, end, inside[0], inside[-1]))
    return out


def _under(path: list[str], level: int, title: str) -> bool:
    return len(path) >= level and path[level - 1].strip() == title


def _without_level_gaps(marks: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    """A level never jumps by more than one below its parent (an outline starting at level 2)."""
    out, previous = [], 0
    for level, title, page in marks:
        level = min(level, previous + 1)
        out.append((level, title, page))
        previous = level
    return out


def outline_from_heading_paths(chunks: list[Document]) -> list[OutlineEntry]:
    """Entries from the heading path ("A > B > C") each chunk of a Markdown, DOCX or HTML file
    carries; a file without headings has no outline."""
    open_entries: list[dict] = []  # the path in force, one dict per level
    done: list[dict] = []
    for index, chunk in enumerate(chunks):
        path = [p.strip() for p in str(chunk.metadata.get("headings") or "").split(_SEP)]
        path = [p for p in path if p]
        keep = 0
        while (
            keep < min(len(path), len(open_entries)) and open_entries[keep]["title"] == path[keep]
        ):
            keep += 1
        done.extend(open_entries[keep:])
        del open_entries[keep:]
        for depth in range(keep, len(path)):
            open_entries.append(
                {"level": depth + 1, "title": path[depth], "chunk_start": index, "chunk_end": index}
            )
        for entry in open_entries:
            entry["chunk_end"] = index
    done.extend(open_entries)
    done.sort(key=lambda e: (e["chunk_start"], e["level"]))
    return [
        OutlineEntry(e["level"], e["title"], None, None, e["chunk_start"], e["chunk_end"])
        for e in done
    ]


__all__ = [
    "OutlineEntry",
    "document_outline",
    "outline_from_heading_paths",
    "paged_outline",
    "pdf_marks",
]
