"""What the model reads and what the answer cites: the numbered source blocks that fit the budget,
and the citations an answer's [n] markers point at."""

import re
from collections.abc import Callable

import prompts
from answering.events import Citation
from answering.formula_lines import reflow_formula_lines
from retrieval import Hit

_MARKER = re.compile(r"\[(\d{1,2})\]")


def best_dense(hits: list[Hit]) -> float | None:
    scores = [h.dense_score for h in hits if h.dense_score is not None]
    return round(float(max(scores)), 4) if scores else None


def context_blocks(
    hits: list[Hit], budget: int, count_tokens: Callable[[str], int] | None = None
) -> list[dict]:
    """Hits, best first, while their tokens fit the budget (the best one always, cut if need be).

    A block costs its estimated tokens (``prompts.estimate_tokens``, the budgets' unit) or, given
    ``count_tokens`` (the model's own tokenizer), the larger of the two: the estimate holds for
    prose but undercounts symbol-heavy text (a textbook's formulas cost 1.8 times it), and the local
    model's wait before the first token grows with what it really reads."""

    def cost_of(text: str) -> int:
        estimate = prompts.estimate_tokens(text)
        return max(estimate, count_tokens(text)) if count_tokens else estimate

    blocks: list[dict] = []
    used = 0
    for hit in hits:
        text = hit.text
        cost = cost_of(text)
        if blocks and used + cost > budget:
            break
        while cost > budget:  # the best hit alone is over budget: keep its head
            text = text[: int(len(text) * 0.8)]
            cost = cost_of(text)
        used += cost
        blocks.append(
            {
                "n": len(blocks) + 1,
                "source": hit.source,
                "page": hit.page,
                "text": text,
                "score": hit.score,
                "doc_id": hit.doc_id,
                "chunk_id": hit.chunk_id,
            }
        )
    return blocks


_HEADING_MARKS = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def for_prompt(blocks: list[dict]) -> list[dict]:
    """Markdown heading marks make small models echo headings in a loop; the words stay. A
    formula's column of one-symbol lines is read as lines (answering/formula_lines.py)."""
    return [{**b, "text": _HEADING_MARKS.sub("", reflow_formula_lines(b["text"]))} for b in blocks]


def citations_of(answer: str, blocks: list[dict]) -> list[Citation]:
    """The sources given to the model; when the answer cites [n], only those it cited."""
    cited = {int(m) for m in _MARKER.findall(answer)} & {b["n"] for b in blocks}
    chosen = [b for b in blocks if b["n"] in cited] if cited else blocks
    return [
        Citation(
            b["n"],
            b["source"],
            b["page"],
            b["text"],
            round(float(b["score"]), 6),
            b["doc_id"],
            b["chunk_id"],
        )
        for b in chosen
    ]
