"""Question sets that cannot be overfitted: a tuning half and a report half split by passage, and
the three kinds of question a knowledge base is asked (answerable, out of the knowledge base, near
miss).

Everything here is a pure function of the QA items: the same files give the same halves on every
machine, and a passage (with every question about it) lands in exactly one half, so nothing chosen
on the tuning half has seen a report-half passage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from retrieval import sentences

from .qa_sets import QAItem

HALVES = ("tune", "report")


def half_of(passage: str, salt: str = "kb-eval-v1") -> str:
    """``tune`` or ``report``: a hash of the passage text decides, so it never depends on file
    order."""
    digest = hashlib.sha256(f"{salt}\n{passage}".encode()).digest()
    return HALVES[digest[0] & 1]


def split_by_passage(
    items: Iterable[QAItem],
    key: Callable[[QAItem], str | None] | None = None,
    salt: str = "kb-eval-v1",
) -> dict[str, list[QAItem]]:
    """Items grouped by the half of their passage (``key``: the passage that decides; default the
    item's own context, e.g. the English twin's for a translated set). Items without a passage are
    left out."""
    key = key or (lambda item: item.context)
    halves: dict[str, list[QAItem]] = {h: [] for h in HALVES}
    for item in items:
        passage = key(item)
        if passage:
            halves[half_of(passage, salt)].append(item)
    return halves


def in_draw_order(items: Sequence[QAItem], draw: int) -> list[QAItem]:
    """The items in the order draw ``draw`` takes passages: 0 is the file's order (the draw every
    figure before draws existed used); any other draw orders the passages by a hash of the draw and
    the passage, so a new draw asks questions nobody has looked at yet. A passage's questions stay
    together, in file order."""
    if draw == 0:
        return list(items)

    def rank(item: QAItem) -> bytes:
        return hashlib.sha256(f"draw-{draw}\n{item.context or ''}".encode()).digest()

    order = {id(item): n for n, item in enumerate(items)}
    return sorted(items, key=lambda item: (rank(item), order[id(item)]))


# From this draw on, a draw leaves out the passages every earlier draw asked about; draws 1-3 (in
# the docs already) leave out draw 0's only, so they share questions with each other.
FIRST_DISJOINT_DRAW = 4
KB_SIZES = (25, 200)  # the knowledge-base sizes bench/answers.py reports


def fresh_draw(
    half_items: Sequence[QAItem],
    draw: int,
    size: int,
    answerable: int,
    out_of_kb: int,
    near_miss: int,
) -> list[QAItem]:
    """The half's items in ``draw``'s order, without the passages earlier draws asked about (their
    answerable, near-miss and out-of-KB questions, counted generously): draw 0's at this size for
    draws 1-3; every earlier draw's, at this size and at ``KB_SIZES``, from ``FIRST_DISJOINT_DRAW``
    on."""
    if draw == 0:
        return list(half_items)
    counts = (max(answerable, 15), max(out_of_kb, 10), max(near_miss, 10))
    if draw < FIRST_DISJOINT_DRAW:
        asked = _asked_passages(half_items, half_items, size, counts)
    else:
        asked = set()
        for earlier in range(draw):
            for kb_size in {size, *KB_SIZES}:
                drawn = fresh_draw(half_items, earlier, kb_size, *counts)
                asked |= _asked_passages(half_items, drawn, kb_size, counts)
    return [i for i in in_draw_order(half_items, draw) if i.context not in asked]


def _asked_passages(
    half_items: Sequence[QAItem], drawn: Sequence[QAItem], size: int, counts: tuple[int, int, int]
) -> set[str | None]:
    """The passages of the questions a draw (its items in order: ``drawn``) asks at this size."""
    asked = {i.id for i in build_kb_questions(drawn, size, *counts).questions()}
    return {i.context for i in half_items if i.id in asked}


def without_answer(context: str, answers: Sequence[str]) -> str | None:
    """The passage with every sentence holding a gold answer removed, or None when that leaves an
    answer behind (it also sits in a sentence split badly) or removes most of the passage."""
    golds = [a.casefold() for a in answers if a.strip()]
    kept = [s for s in sentences(context) if not any(g in s.casefold() for g in golds)]
    text = "".join(kept).strip()
    if not golds or any(g in text.casefold() for g in golds) or len(text) < len(context) * 0.4:
        return None
    return text


@dataclass
class KBQuestions:
    """A knowledge base (its passages, as items carrying a context) and the questions asked over
    it."""

    passages: list[QAItem] = field(default_factory=list)
    answerable: list[QAItem] = field(default_factory=list)
    out_of_kb: list[QAItem] = field(default_factory=list)
    near_miss: list[QAItem] = field(default_factory=list)

    def questions(self) -> list[QAItem]:
        return [*self.answerable, *self.out_of_kb, *self.near_miss]


def build_kb_questions(
    half_items: Sequence[QAItem],
    kb_size: int,
    n_answerable: int,
    n_out_of_kb: int,
    n_near_miss: int,
    fillers: Sequence[QAItem] = (),
) -> KBQuestions:
    """One knowledge base of ``kb_size`` passages from one half, and its questions.

    Out-of-KB questions come from titles kept wholly out of the knowledge base (a sibling passage of
    the
    same article could hold the answer); near-miss passages go in with the answer's sentence removed
    (same subject, same words, no answer), and their questions want the refusal; answerable
    questions
    are one per passage. ``fillers`` (passages of the same half from another set in the same
    language)
    make up the size when the half is smaller.
    """
    by_passage = _first_question_per_passage(half_items)
    titles = list(dict.fromkeys(item.title or item.context for item in by_passage))
    out_titles, result = set(), KBQuestions()
    # the titles at the end are the ones a small knowledge base never reaches
    for title in reversed(titles):
        if len(result.out_of_kb) >= n_out_of_kb:
            break
        out_titles.add(title)
        result.out_of_kb += [
            replace(i, answers=[], context=None)
            for i in by_passage
            if (i.title or i.context) == title
        ]
    result.out_of_kb = result.out_of_kb[:n_out_of_kb]
    inside = [i for i in by_passage if (i.title or i.context) not in out_titles]
    for item in inside:
        if len(result.passages) >= kb_size:
            break
        cut = (
            without_answer(item.context or "", item.answers)
            if len(result.near_miss) < n_near_miss
            else None
        )
        if len(result.answerable) >= n_answerable and cut is not None:
            result.near_miss.append(replace(item, answers=[], context=cut))
            result.passages.append(replace(item, context=cut))
            continue
        if len(result.answerable) < n_answerable:
            result.answerable.append(item)
        result.passages.append(item)
    for item in _first_question_per_passage(fillers):
        if len(result.passages) >= kb_size:
            break
        result.passages.append(item)
    return result


def _first_question_per_passage(items: Iterable[QAItem]) -> list[QAItem]:
    seen, out = set(), []
    for item in items:
        if item.answers and item.context and item.context not in seen:
            seen.add(item.context)
            out.append(item)
    return out
