"""Does one sentence of the passages match a text (a question, an answer)? As a refusal bar it did
not carry from a tuning half to a report half (docs/benchmarks-history.md); it is kept as the way
to find the sentence of a passage closest to a text.

A passage about the right subject with the sentence that states the asked fact missing (a "near
miss") still scores high as a whole: same subject, same words. The sentence that would answer is
what is missing, so the best similarity between the question and a single sentence of the passages
drops. This reads the embedding model's similarities, not word lists, so it carries to documents
nobody here has read.
"""

from __future__ import annotations

import re

import numpy as np
from langchain_core.embeddings import Embeddings

# A sentence ends at Chinese or English end punctuation or a line break; the space stays with the
# next one.
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?<=[.;])(?=\s+[A-Z0-9\"'(])")
_LINE_BREAK = re.compile(r"\n+")


def sentences(text: str) -> list[str]:
    """Sentences of a Chinese or English passage, each keeping its end mark (joined, they are the
    text)."""
    return [s for s in _SENTENCE_END.split(text) if s and s.strip()]


class SentenceSupport:
    """``best_score(question, passages)``: the highest similarity between the question and one
    sentence (or line) of the passages, over at most ``max_sentences`` of them, the first passage's
    first. Sentences shorter than ``min_chars`` (headings, list numbers) are skipped; longer than
    ``max_chars`` are cut."""

    def __init__(
        self,
        embeddings: Embeddings,
        max_sentences: int = 96,
        min_chars: int = 6,
        max_chars: int = 300,
    ):
        self._embeddings = embeddings
        self._max_sentences = max_sentences
        self._min_chars = min_chars
        self._max_chars = max_chars

    def units(self, passages: list[str]) -> list[tuple[int, str]]:
        """The sentences scored, each once, with the index of the passage that holds it."""
        out: dict[str, int] = {}
        for n, passage in enumerate(passages):
            for line in _LINE_BREAK.split(passage):
                for sentence in sentences(line):
                    text = sentence.strip()[: self._max_chars]
                    if len(text) >= self._min_chars:
                        out.setdefault(text, n)
                    if len(out) >= self._max_sentences:
                        return [(i, t) for t, i in out.items()]
        return [(i, t) for t, i in out.items()]

    def best_score(self, question: str, passages: list[str]) -> float | None:
        """None when the passages hold no sentence to score."""
        scores = [s for s in self.scores_by_passage(question, passages) if s is not None]
        return max(scores) if scores else None

    def scores_by_passage(self, question: str, passages: list[str]) -> list[float | None]:
        """Each passage's best sentence score (None: no sentence of it was scored)."""
        return [None if best is None else best[1] for best in self._best(question, passages)]

    def best_sentences(self, text: str, passages: list[str]) -> list[str | None]:
        """Each passage's sentence closest to ``text`` (an answer: the sentence that supports it;
        None: no sentence of that passage was scored)."""
        return [None if best is None else best[0] for best in self._best(text, passages)]

    def _best(self, text: str, passages: list[str]) -> list[tuple[str, float] | None]:
        units = self.units(passages)
        best: list[tuple[str, float] | None] = [None] * len(passages)
        if not units:
            return best
        query = np.asarray(self._embeddings.embed_query(text), dtype=np.float32)
        vectors = np.asarray(self._embeddings.embed_documents([t for _, t in units]), np.float32)
        # cosine, whether or not the embedding model normalises its vectors
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = vectors @ query / np.where(norms == 0, 1.0, norms)
        for (n, sentence), score in zip(units, scores, strict=True):
            value = round(float(score), 4)
            held = best[n]
            if held is None or value > held[1]:
                best[n] = (sentence, value)
        return best
