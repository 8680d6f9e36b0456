"""What the answer model reads of a hit on a page: the matched chunk widened with its page neighbours.

Pages are split into small chunks so that a question matches the one sentence it is about
(``ingest.DEFAULT_PAGE_CHUNK_SIZE``); an answer needs the sentences around it. ``widen_hits`` grows
each paged hit's text with the chunks after and before it on the same page, in turns, until it holds
``chars`` characters, the overlap between neighbours said once. Unpaged hits (Markdown, text) are
left as they are: their chunks are already the larger size. Scores, ids and pages do not change, so a
citation still points at the chunk that matched.
"""

import dataclasses
from collections.abc import Sequence

from retrieval.store import KnowledgeBase

_MOST_NEIGHBOURS = 4  # on each side: enough for 150-character chunks to fill a 500-character window


def widen_hits(kb: KnowledgeBase, hits: Sequence, chars: int) -> list:
    """``hits`` with each paged one's text widened to about ``chars`` characters from its own page."""
    todo = [h for h in hits if h.page is not None and len(h.text) < chars and _index(h.chunk_id) is not None]
    if chars <= 0 or not todo:
        return list(hits)
    wanted = {_neighbour(h.chunk_id, step) for h in todo for step in _steps()} - {None}
    found = kb.get_chunks(sorted(wanted))
    widen = {id(h) for h in todo}
    return [dataclasses.replace(h, text=_widened(h, found, chars)) if id(h) in widen else h for h in hits]


def _widened(hit, found: dict, chars: int) -> str:
    text = hit.text
    ends = {1: True, -1: True}  # each side: still on the page
    for step in _steps():
        if len(text) >= chars or not any(ends.values()):
            break
        side = 1 if step > 0 else -1
        chunk = found.get(_neighbour(hit.chunk_id, step) or "")
        if not ends[side]:
            continue
        if chunk is None or chunk["metadata"].get("page") != hit.page or chunk["metadata"].get("doc_id") != hit.doc_id:
            ends[side] = False
            continue
        text = _join(text, chunk["text"]) if side > 0 else _join(chunk["text"], text)
    return text


def _steps() -> list[int]:
    """1, -1, 2, -2, ...: after and before the hit, in turns."""
    return [s * n for n in range(1, _MOST_NEIGHBOURS + 1) for s in (1, -1)]


def _index(chunk_id: str) -> int | None:
    index = chunk_id.rpartition("-")[2]  # chunk ids are "<doc id head>-<index>" (retrieval.store.chunk_id)
    return int(index) if index.isdigit() else None


def _neighbour(chunk_id: str, step: int) -> str | None:
    index = _index(chunk_id)
    if index is None or index + step < 0:
        return None
    return f"{chunk_id.rpartition('-')[0]}-{index + step}"


def _join(first: str, second: str, most: int = 200, least: int = 4) -> str:
    """``first`` then ``second``, the tail of ``first`` that ``second`` repeats (chunk overlap) said once;
    a shared run shorter than ``least`` characters is taken for chance, not overlap."""
    for size in range(min(len(first), len(second), most), least - 1, -1):
        if first.endswith(second[:size]):
            return first + second[size:]
    return f"{first}\n{second}"
