"""Is the model sure of its answer's own words? One signal of the refusal decision.

Handed a passage about the asked subject with the sentence stating the asked fact missing (a near
miss), a small model answers anyway, from a neighbouring sentence; its refusal probability stays
low. Where it hesitates is the answer's own words: a model copying a stated fact is sure of each
token, one guessing is not. The signal is the mean log-probability of the answer's first clause
(up to its first citation marker or sentence end), leaving out the tokens that only repeat the
question. Its threshold is fitted on a tuning half (bench/fit_span.py); it needs a model that
reports its tokens' log-probabilities (llm_backends.LocalChatModel with ``token_logprobs``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# where the answer's first clause has been written: a citation, a sentence end, a line break
_CLAUSE_END = re.compile(r"\[\d|[。！？!?\n]|\.\s")
_CONTENT = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]")
_LIST_MARK = re.compile(r"^\s*(?:\d{1,2}[.、)]|[-*•])\s*")  # "1. " opens a list, it ends nothing


def span_logprob(question: str, pairs: list[tuple[str, float]]) -> float | None:
    """The mean log-probability of the tokens that say something of their own (not punctuation,
    not a piece of the question); None when there is none."""
    asked = question.casefold()
    values = [
        logprob
        for text, logprob in pairs
        if (token := text.strip().casefold()) and _CONTENT.search(token) and token not in asked
    ]
    return round(sum(values) / len(values), 4) if values else None


class SpanConfidence:
    """``stream(pieces)`` passes an answer's text pieces on; while ``pairs`` (appended to by the
    model's stream, token by token) reach the first clause's end, it reads ``score``. With a
    ``threshold`` the clause is held back until then, and a score below it ends the answer with
    ``refusal`` instead (the model is stopped). Without one, nothing is held."""

    def __init__(self, question: str, threshold: float | None, refusal: str, max_tokens: int = 24):
        self.question = question
        self.threshold = threshold
        self.refusal = refusal
        self.max_tokens = max_tokens
        self.pairs: list[tuple[str, float]] = []
        self.score: float | None = None
        self.read = False  # the clause was complete and scored
        self.refused = False

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        held = ""
        try:
            for piece in pieces:
                if self.read:
                    yield piece
                    continue
                held += piece
                if not self._clause_done(held):
                    if self.threshold is None:
                        yield piece
                    continue
                self._read()
                if self.refused:
                    yield self.refusal
                    return
                if self.threshold is not None:
                    yield held
                else:
                    yield piece
            if not self.read:
                self._read()
                if self.refused:
                    yield self.refusal
                elif self.threshold is not None and held:
                    yield held
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # stops the model (a local model's lock is released)

    def _clause_done(self, held: str) -> bool:
        return bool(_CLAUSE_END.search(_LIST_MARK.sub("", held))) or (
            len(self.pairs) >= self.max_tokens
        )

    def _read(self) -> None:
        self.read = True
        self.score = span_logprob(self.question, self.pairs[: self.max_tokens])
        self.refused = (
            self.threshold is not None and self.score is not None and self.score < self.threshold
        )
