"""The words of a structure answer (zh/en) and the numbering of the sections it cites."""

from answering.events import Citation
from answering.structure_find import DocumentOutline
from retrieval.chunk_ids import chunk_id

MAX_LISTED = 40
WORDS = {
    "zh": {
        "chapters": "《{source}》共有 {n} 章：",
        "sections": "{title}{pages} [{n}]（《{source}》）包括以下各节：",
        "leaf": "{title}{pages} [{n}]（《{source}》）。",
        "gist": "要点：{digest} [{n}]",
        "overview": "\n\n概述：",
        "located": "「{topic}」主要在《{source}》的「{chapter}」{cpages} [{cn}] 中讨论",
        "located_in": "，见「{section}」{spages} [{sn}]",
        "also": "\n另见：",
        "summary": "《{source}》共 {n} 章，各章要点：",
    },
    "en": {
        "chapters": "{source} has {n} chapters:",
        "sections": "{title}{pages} [{n}] (in {source}) has these sections:",
        "leaf": "{title}{pages} [{n}] (in {source}).",
        "gist": "Key points: {digest} [{n}]",
        "overview": "\n\nOverview: ",
        "located": '"{topic}" is discussed in {source}, in "{chapter}"{cpages} [{cn}]',
        "located_in": ', section "{section}"{spages} [{sn}]',
        "also": "\nSee also: ",
        "summary": "{source} has {n} chapters; what each covers:",
    },
}


def pages_of(entry: dict, lang: str) -> str:
    start, end = entry.get("page_start"), entry.get("page_end")
    if start is None:
        return ""
    span = str(start) if end in (None, start) else f"{start}–{end}"
    return f"（第{span}页）" if lang == "zh" else f" (p. {span})"


class Cited:
    """Sections cited so far, numbered in the order they are first named."""

    def __init__(self):
        self.entries: list[tuple[DocumentOutline, int]] = []

    def number(self, outline: DocumentOutline, index: int) -> int:
        key = (outline.doc_id, index)
        for n, (o, i) in enumerate(self.entries, 1):
            if (o.doc_id, i) == key:
                return n
        self.entries.append((outline, index))
        return len(self.entries)

    def citations(self) -> list[Citation]:
        out = []
        for n, (outline, index) in enumerate(self.entries, 1):
            entry = outline.entries[index]
            text = f"{entry['title']}: {entry.get('digest') or ''}".strip(": ")
            out.append(
                Citation(
                    n,
                    outline.source,
                    entry.get("page_start"),
                    text,
                    1.0,
                    outline.doc_id,
                    chunk_id(outline.doc_id, int(entry["chunk_start"])),
                )
            )
        return out


def item(outline: DocumentOutline, index: int, lang: str, cited: Cited, prefix: str) -> str:
    entry = outline.entries[index]
    return f"{prefix}{entry['title']}{pages_of(entry, lang)} [{cited.number(outline, index)}]"


def block(outline: DocumentOutline, index: int, cited: Cited) -> dict:
    entry = outline.entries[index]
    return {
        "n": cited.number(outline, index),
        "source": entry["title"],
        "page": entry.get("page_start"),
        "text": entry.get("digest") or "",
    }


def first_sentence(text: str) -> str:
    for end in ("。", "！", "？", ". "):
        if end in text:
            return text[: text.index(end) + len(end)].strip()
    return text[:120]
