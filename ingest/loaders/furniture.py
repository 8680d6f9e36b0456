"""Page furniture: running headers, footers and page numbers, kept out of a PDF's page text.

A book that prints "欢迎去各大电商平台选购纸质版南瓜书…" above and a video link below every page
puts those lines into every chunk: they are embedded and keyword-indexed 196 times, pull unrelated
pages together, and a citation's highlight can land on the footer instead of the passage. A line
counts as furniture when, with its digits masked and its spaces removed, it sits among the first or
last few lines of at least half of the pages (and of at least three). Only those edge lines are
removed; the page image (the source preview) still shows them.
"""

import re
from collections import Counter

# A table-of-contents entry: a dot leader (". . . . ." or "......" or "…") before its page number.
_LEADER = re.compile(r"(?:\.\s?){4,}|…{2,}|·{4,}")
CONTENTS_MIN_LEADERS = 5

EDGE_LINES = 4  # lines from the top and from the bottom of a page that may be furniture
MIN_SHARE = 0.5  # share of the pages a line must repeat on
MIN_PAGES = 3
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def _key(line: str) -> str:
    return _DIGITS.sub("#", _SPACE.sub("", line))


def _edges(lines: list[str], edge: int) -> set[int]:
    """Indexes of the first and last ``edge`` non-empty lines (a third of a short page's, at
    most)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    edge = min(edge, max(2, len(filled) // 3))
    return set(filled[:edge]) | set(filled[-edge:])


def furniture_keys(
    pages: list[str], edge: int = EDGE_LINES, min_share: float = MIN_SHARE
) -> set[str]:
    """The masked forms of the lines repeated at the edges of most ``pages``."""
    if len(pages) < MIN_PAGES:
        return set()
    counts: Counter[str] = Counter()
    for text in pages:
        lines = text.split("\n")
        counts.update({_key(lines[i]) for i in _edges(lines, edge)} - {""})
    need = max(MIN_PAGES, min_share * len(pages))
    # A Markdown table row repeated on every page is a continued table's header, not furniture.
    return {key for key, n in counts.items() if n >= need and not key.startswith("|")}


def strip_furniture(
    pages: list[str], edge: int = EDGE_LINES, min_share: float = MIN_SHARE
) -> list[str]:
    """``pages`` with their furniture lines removed from their edges (see the module docstring).

    A page that would be left empty keeps its text (a page of nothing but a repeated line is
    content: a scanned form, a slide); when that is most pages, the "furniture" is the content and
    nothing is removed."""
    keys = furniture_keys(pages, edge, min_share)
    if not keys:
        return list(pages)
    out = []
    for text in pages:
        lines = text.split("\n")
        drop = {i for i in _edges(lines, edge) if _key(lines[i]) in keys}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop).strip())
    emptied = sum(1 for before, after in zip(pages, out) if before.strip() and not after)
    if emptied > len(pages) / 2:
        return list(pages)
    return [after or before for before, after in zip(pages, out)]


def is_contents_page(text: str) -> bool:
    """A table of contents (or an index): at least five dot leaders. Such a page names every section
    and equation of a book, so it points at the page a question asks for without being it."""
    return len(_LEADER.findall(text)) >= CONTENTS_MIN_LEADERS
