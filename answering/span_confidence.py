"""Is the model sure of its answer's own words? Read and recorded as evidence (``Evidence``),
gating nothing: as a refusal gate it did not carry from a tuning half to a report half
(docs/benchmarks-history.md).

A model copying a stated fact is sure of each token, one guessing is not. The signal is the mean
log-probability of the answer's first clause (up to its first citation marker or sentence end),
leaving out the tokens that only repeat the question. It needs a model that reports its tokens'
log-probabilities (llm_backends.LocalChatModel with ``token_logprobs``).
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
    """``stream(pieces)`` passes an answer's text pieces on unchanged; once ``pairs`` (appended to
    by the model's stream, token by token) reach the first clause's end, it reads ``score``."""

    def __init__(self, question: str, max_tokens: int = 24):
        self.question = question
        self.max_tokens = max_tokens
        self.pairs: list[tuple[str, float]] = []
        self.score: float | None = None
        self.read = False  # the clause was complete and scored

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        written = ""
        try:
            for piece in pieces:
                if not self.read:
                    written += piece
                    if self._clause_done(written):
                        self._read()
                yield piece
            if not self.read:
                self._read()
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # stops the model (a local model's lock is released)

    def _clause_done(self, written: str) -> bool:
        return bool(_CLAUSE_END.search(_LIST_MARK.sub("", written))) or (
            len(self.pairs) >= self.max_tokens
        )

    def _read(self) -> None:
        self.read = True
        self.score = span_logprob(self.question, self.pairs[: self.max_tokens])
