"""What the answer model reads of a hit: the matched chunk widened with its neighbours in the
document.

Chunks are cut by size, so an answer can fall on a boundary ("本线现时使用2" | "015年…"), and pages
are split into small chunks so that a question matches the one sentence it is about
(``ingest.DEFAULT_PAGE_CHUNK_SIZE``). ``widen_hits`` does two things to every hit, whatever its
format:

1. it grows the hit's text with the chunks after and before it, in turns, until it holds ``chars``
   characters (a page hit stays on its page; a text, Markdown, DOCX or HTML hit in its document);
2. where the text then starts or ends mid-sentence, it finishes that sentence from the next chunk
   outside (at most ``finish_chars`` characters a side), so a sentence cut at a boundary arrives
   whole.

The overlap between neighbours is said once. Scores, ids and pages do not change, so a citation
still points at the chunk that matched.
"""

import dataclasses
import re
from collections.abc import Sequence

from retrieval.chunk_ids import chunk_index, neighbour_id
from retrieval.passage_edits import is_enabled
from retrieval.store import KnowledgeBase

_MOST_NEIGHBOURS = 4  # on each side: enough for 150-character chunks to fill a 500-character window
# a cut sentence is finished from its neighbour up to this many characters a side
FINISH_CHARS = 120
_SENTENCE_END = re.compile(r"[。！？!?…；;]+[”’」』）)\"']?|\.(?=\s)|\n")
# a heading, table row or list item: ends unpunctuated
_BLOCK_LINE = re.compile(r"\s*(#|\||[-*•]\s|\d{1,2}[.、)]\s)")


def widen_hits(
    kb: KnowledgeBase, hits: Sequence, chars: int, finish_chars: int = FINISH_CHARS
) -> list:
    """``hits`` with each one's text widened from its own document (and page) as the module says."""
    todo = [h for h in hits if chunk_index(h.chunk_id) is not None]
    if chars <= 0 or not todo:  # 0: the matched chunk alone
        return list(hits)
    reach = _MOST_NEIGHBOURS + 1  # one past the window: where a cut sentence is finished from
    wanted = {
        neighbour_id(h.chunk_id, s * n) for h in todo for n in range(1, reach + 1) for s in (1, -1)
    }
    found = kb.get_chunks(sorted(w for w in wanted if w is not None))
    found = {cid: c for cid, c in found.items() if is_enabled(c["metadata"])}  # not a disabled one
    widen = {id(h) for h in todo}
    return [
        (
            dataclasses.replace(h, text=_widened(h, found, chars, finish_chars))
            if id(h) in widen
            else h
        )
        for h in hits
    ]


def _widened(hit, found: dict, chars: int, finish_chars: int) -> str:
    """The window grown whole chunk by whole chunk, then its cut sentences finished."""
    text, edge = hit.text, {1: 0, -1: 0}  # each side: how many neighbours were taken
    # each side: the next neighbour exists and is of the same document/page
    open_side = {1: True, -1: True}
    for step in _steps():
        if len(text) >= chars or not any(open_side.values()):
            break
        side = 1 if step > 0 else -1
        if not open_side[side]:
            continue
        chunk = _same_place(hit, found, step)
        if chunk is None:
            open_side[side] = False
            continue
        text = _join(text, chunk) if side > 0 else _join(chunk, text)
        edge[side] = abs(step)
    if finish_chars > 0:
        text = _finish(hit, found, text, edge, finish_chars)
    return text


def _finish(hit, found: dict, text: str, edge: dict, most: int) -> str:
    """``text`` with the sentence it is cut in at either end finished from the chunk just
    outside."""
    after = _same_place(hit, found, edge[1] + 1)
    if after is not None and not _ends_sentence(text):
        text = text + _head_sentence(_join(text, after)[len(text) :], most)
    before = _same_place(hit, found, -(edge[-1] + 1))
    if before is not None:
        joined = _join(before, text)
        lead = joined[: len(joined) - len(text)]
        if lead.strip() and not _ends_sentence(lead):
            text = _tail_sentence(lead, most) + text
    return text


def _same_place(hit, found: dict, step: int) -> str | None:
    """The text of the chunk ``step`` places from the hit when it is of the same document and
    page."""
    chunk = found.get(neighbour_id(hit.chunk_id, step) or "")
    if chunk is None:
        return None
    meta = chunk["metadata"]
    if meta.get("doc_id") != hit.doc_id or meta.get("page") != hit.page:  # unpaged: both None
        return None
    return chunk["text"]


def _ends_sentence(text: str) -> bool:
    tail = text.rstrip(" \t")
    return not tail or _last_end(tail) == len(tail)


def _last_end(text: str) -> int:
    """Where the last sentence end in ``text`` finishes (0: none)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return ends[-1] if ends else 0


def _head_sentence(text: str, most: int) -> str:
    """``text`` up to its first sentence end, at most ``most`` characters."""
    match = _SENTENCE_END.search(text, 0, most)
    return text[: match.end()].rstrip("\n") if match else text[:most]


def _tail_sentence(text: str, most: int) -> str:
    """``text`` from the start of its last (unfinished) sentence, at most ``most`` characters."""
    start = max(_last_end(text.rstrip()), len(text) - most)
    return text[start:].lstrip()


def _steps() -> list[int]:
    """1, -1, 2, -2, ...: after and before the hit, in turns."""
    return [s * n for n in range(1, _MOST_NEIGHBOURS + 1) for s in (1, -1)]


def _join(first: str, second: str, most: int = 200, least: int = 4) -> str:
    """``first`` then ``second``, the tail of ``first`` that ``second`` repeats (chunk overlap) said
    once; a shared run shorter than ``least`` characters is taken for chance, not overlap. Without
    overlap, a sentence cut between them is glued back (a space between two words, as the splitter
    stripped it)."""
    for size in range(min(len(first), len(second), most), least - 1, -1):
        if first.endswith(second[:size]):
            return first + second[size:]
    if _ends_sentence(first) or _BLOCK_LINE.match(first.rpartition("\n")[2]):
        return f"{first}\n{second}"
    words = (
        first[-1:].isascii()
        and first[-1:].isalnum()
        and second[:1].isascii()
        and second[:1].isalnum()
    )
    return f"{first} {second}" if words else first + second
