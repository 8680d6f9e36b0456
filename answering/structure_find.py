"""Finding what a structure question names in the outlines: the document, the chapter or section
(by its number or its title), and the sections a topic's passages lie in."""

import re
from dataclasses import dataclass, field

from answering.structure import StructureQuestion

# front and back matter: not counted when "chapter 3" means the third chapter
_NOT_A_CHAPTER = re.compile(
    r"^(前言|序|序言|目录|致谢|参考文献|索引|附录|附\d|主要符号表|contents|preface|foreword|abstract|"
    r"acknowledg|references|bibliography|index|appendix|contributors|changelist)",
    re.I,
)
_LEADING_NUMBER = re.compile(
    r"^\s*(第\s*([\d零〇一二三四五六七八九十百]+)\s*[章节篇部]|(item|chapter|section|part)\s+"
    r"(\d+[a-z]?(?:\.\d+)*)|(\d+(?:\.\d+)*)|([一二三四五六七八九十]+)、)",
    re.I,
)


@dataclass
class DocumentOutline:
    doc_id: str
    source: str
    pages: int
    entries: list[dict] = field(default_factory=list)  # as KnowledgeBase.outline gives them


def entry_number(title: str) -> str | None:
    """The number a title carries ("第3章 …" -> "3", "3.2 …" -> "3.2", "Item 7." -> "7")."""
    from answering.structure import to_arabic

    match = _LEADING_NUMBER.match(title)
    if not match:
        return None
    raw = match.group(2) or match.group(4) or match.group(5) or match.group(6)
    return to_arabic(raw).lower() if raw else None


def chapters(outline: DocumentOutline) -> list[int]:
    """Indexes of the entries that are the document's chapters: its top level, or the level below
    a single top entry (a Markdown file's one title)."""
    tops = [i for i, e in enumerate(outline.entries) if e["level"] == 1]
    if len(tops) == 1:
        seconds = [i for i, e in enumerate(outline.entries) if e["level"] == 2]
        if len(seconds) >= 2:
            return seconds
    return tops


def children(outline: DocumentOutline, index: int) -> list[int]:
    """Indexes of the entries one level below entry ``index``, up to its end."""
    level = outline.entries[index]["level"]
    out = []
    for n in range(index + 1, len(outline.entries)):
        entry = outline.entries[n]
        if entry["level"] <= level:
            break
        if entry["level"] == level + 1:
            out.append(n)
    return out


def by_number(outline: DocumentOutline, number: str) -> int | None:
    """The entry the number names: a title carrying it, else (a chapter number) the n-th chapter
    not counting front and back matter, else (3.2) the second section of the third chapter."""
    number = number.lower()
    for n, entry in enumerate(outline.entries):
        if entry_number(entry["title"]) == number:
            return n
    parts = number.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    level_entries = [
        i for i in chapters(outline) if not _NOT_A_CHAPTER.match(outline.entries[i]["title"])
    ]
    found: int | None = None
    for depth, part in enumerate(parts):
        position = int(part) - 1
        if not 0 <= position < len(level_entries):
            return None
        found = level_entries[position]
        if depth + 1 < len(parts):
            level_entries = children(outline, found)
    return found


def by_title(outlines: list[DocumentOutline], named: str) -> tuple[DocumentOutline, int] | None:
    """The entry whose title the question names best (most of the title's characters in the
    question, at least 60 %), preferring higher levels at a tie."""
    wanted = _letters(named)
    if len(wanted) < 2:
        return None
    best, best_score = None, 0.0
    for outline in outlines:
        for n, entry in enumerate(outline.entries):
            title = _letters(_LEADING_NUMBER.sub("", entry["title"]))
            if len(title) < 2:
                continue
            if title in wanted or wanted in title:
                score = 1.0 + min(len(title), len(wanted)) / max(len(title), len(wanted))
            else:
                shared = _bigrams(title) & _bigrams(wanted)
                score = len(shared) / max(1, len(_bigrams(title)))
            score -= 0.01 * entry["level"]
            if score > best_score:
                best, best_score = (outline, n), score
    return best if best_score >= 0.6 else None


def section_of(outline: DocumentOutline, chunk_index: int, page: int | None) -> list[int]:
    """Indexes of the entries holding a passage, outermost first (its chapter, section, ...)."""
    holding = []
    for n, entry in enumerate(outline.entries):
        if entry["chunk_start"] <= chunk_index <= entry["chunk_end"]:
            holding.append(n)
    # a passage in two sections' ranges (they share a page): the later-starting one, per level
    by_level: dict[int, int] = {}
    for n in holding:
        by_level[outline.entries[n]["level"]] = n
    return [by_level[level] for level in sorted(by_level)]


def pick_document(
    question: StructureQuestion | None, text: str, outlines: list[DocumentOutline], hits: list
) -> DocumentOutline | None:
    """The document a question is about: the one it names, else the one whose passages the
    question finds first, else the longest with an outline."""
    with_outline = [o for o in outlines if o.entries]
    if not with_outline:
        return None
    folded = text.lower()
    for outline in with_outline:
        stem = outline.source.rsplit(".", 1)[0].lower()
        if len(stem) >= 3 and stem in folded:
            return outline
    ids = {o.doc_id: o for o in with_outline}
    for hit in hits:
        if hit.doc_id in ids:
            return ids[hit.doc_id]
    return max(with_outline, key=lambda o: (o.pages, len(o.entries)))


def _letters(text: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+|[\u4e00-\u9fff]", text.lower()))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}
