"""Headings in the text of a PDF without an outline: lines set larger or bolder than the body
text, or opening with a heading's numbering ("第3章", "Chapter 3", "3.2", "Item 7.", "一、")."""

import re
from collections import Counter

# numbering -> level; the first that matches a line decides
_NUMBERED = [
    (re.compile(r"^第[一二三四五六七八九十百零〇\d]+[章篇部]"), 1),
    (re.compile(r"^(chapter|part)\s+[\divxlc]+\b", re.I), 1),
    (re.compile(r"^item\s+\d+[a-z]?\.", re.I), 1),
    (re.compile(r"^[一二三四五六七八九十]+、"), 1),
    (re.compile(r"^第[一二三四五六七八九十百零〇\d]+节"), 2),
    (re.compile(r"^[（(][一二三四五六七八九十]+[)）]"), 2),
    (re.compile(r"^\d+\.\d+\.\d+\s*\S"), 3),
    (re.compile(r"^\d+\.\d+\s*[^\d\s.]"), 2),
    (re.compile(r"^\d+\s+[A-Z\u4e00-\u9fff]"), 1),
]
_MAX_TITLE = 80
_SIZE_RATIO = 1.15  # a line this much larger than the body text stands out
_MAX_HEADINGS_PER_PAGE = 6
_SENTENCE_END = re.compile(r"[。．.!！?？,，;；:：]$")
_BARE_NUMBER = re.compile(r"^(\d+(\.\d+)*\.?|[A-Z]|第[一二三四五六七八九十\d]+[章节])$")
_INNER_PUNCTUATION = re.compile(r"[，。：；,;]")
_WORDY = re.compile(r"[A-Za-z\u4e00-\u9fff]{2}")


def numbered_level(line: str) -> int:
    """The level a heading's numbering says (0: not numbered like a heading)."""
    for pattern, level in _NUMBERED:
        if pattern.match(line):
            return level
    return 0


def text_headings(pdf) -> list[tuple[int, str, int]]:
    """(level, title, page) of the headings found on the pages of an open PyMuPDF document."""
    lines = _lines(pdf)
    if not lines:
        return []
    sizes: Counter[float] = Counter()
    for _, text, size, _ in lines:
        sizes[size] += len(text)
    body = sizes.most_common(1)[0][0]
    larger = sorted({s for s in sizes if s >= body * _SIZE_RATIO}, reverse=True)
    found: list[tuple[int, str, int]] = []
    per_page: Counter[int] = Counter()
    for page, text, size, bold in lines:
        if len(text) > _MAX_TITLE or not _WORDY.search(text) or _SENTENCE_END.search(text):
            continue
        numbered = numbered_level(text)
        stands_out = size >= body * _SIZE_RATIO or (bold and size >= body)
        # body-size lines need a chapter's numbering ("第3章", "Item 7."): others are list items
        if not stands_out and (
            numbered != 1 or text[0].isdigit() or len(text) > 30 or _INNER_PUNCTUATION.search(text)
        ):
            continue
        level = numbered or (min(larger.index(size) + 1, 3) if size in larger else 3)
        per_page[page] += 1
        found.append((level, text, page))
    # a page full of "headings" is a table or a list, not a section start
    return [f for f in found if per_page[f[2]] <= _MAX_HEADINGS_PER_PAGE]


def _lines(pdf) -> list[tuple[int, str, float, bool]]:
    """(page, text, font size rounded, bold) of every text line."""
    out: list[tuple[int, str, float, bool]] = []
    for index in range(pdf.page_count):
        try:
            blocks = pdf[index].get_text("dict")["blocks"]
        except Exception:  # noqa: BLE001  a damaged page has no headings
            continue
        for block in blocks:
            for line in block.get("lines", []):
                spans = [s for s in line.get("spans", []) if s.get("text", "").strip()]
                if not spans:
                    continue
                text = " ".join("".join(s["text"] for s in spans).split())
                size = round(max(s["size"] for s in spans), 1)
                bold = all(
                    s.get("flags", 0) & 16 or "bold" in s.get("font", "").lower() for s in spans
                )
                if out and out[-1][0] == index + 1 and _BARE_NUMBER.match(out[-1][1]):
                    # a section number set apart from its title ("3.1" / "Web Crawling")
                    number, was_size, was_bold = out.pop()[1:]
                    text, size, bold = f"{number} {text}", max(size, was_size), was_bold and bold
                out.append((index + 1, text, size, bool(bold)))
    return out
