"""Extractive section digests: a section's most central sentences, with no LLM and no extra
embedding.

The embedding model has already embedded every passage; a section's centre is the mean of its
passages' vectors, and its most central passages are those nearest that centre. From each of them
the sentence that shares most character pairs with the whole section is kept (the section's
vocabulary, central within the passage), so a digest costs milliseconds at ingest.
"""

import re
from collections import Counter

import numpy as np

from retrieval.support import sentences

DIGEST_SENTENCES = 3
_MAX_SENTENCE_CHARS = 160
_MIN_SENTENCE_CHARS = 8
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


def centre(vectors: np.ndarray) -> np.ndarray:
    """The normalised mean of some unit vectors (a zero vector for none)."""
    if len(vectors) == 0:
        return np.zeros(vectors.shape[1] if vectors.ndim == 2 else 1, dtype="float32")
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm else mean


def section_digest(
    title: str, texts: list[str], vectors: np.ndarray, limit: int = DIGEST_SENTENCES
) -> str:
    """Up to ``limit`` sentences of the section's passages ``texts`` (embedded as ``vectors``), in
    the order they appear."""
    if not texts:
        return ""
    middle = centre(vectors)
    order = np.argsort(-(vectors @ middle)) if len(vectors) == len(texts) else range(len(texts))
    vocabulary = _pairs(" ".join(texts))
    picked: list[tuple[int, int, str]] = []
    seen: set[str] = set()
    for index in list(order)[: limit * 2]:
        best = _central_sentence(texts[int(index)], vocabulary, title, seen)
        if best is not None:
            picked.append((int(index), best[0], best[1]))
            seen.add(best[1])
        if len(picked) == limit:
            break
    picked.sort()
    return " ".join(text for _, _, text in picked)


def _central_sentence(
    text: str, vocabulary: Counter, title: str, seen: set[str]
) -> tuple[int, str] | None:
    """(position, sentence) of the passage's sentence that shares most with the section."""
    best, best_score = None, 0.0
    for position, sentence in enumerate(sentences(text)):
        sentence = " ".join(sentence.split())
        if (
            len(sentence) < _MIN_SENTENCE_CHARS
            or sentence in seen
            or sentence.strip("#* ") == title
            or sentence.startswith(("|", "#"))
        ):
            continue
        pairs = _pairs(sentence)
        if not pairs:
            continue
        score = sum(min(vocabulary[p], 50) for p in pairs) / (sum(pairs.values()) ** 0.5)
        if score > best_score:
            best, best_score = (position, sentence[:_MAX_SENTENCE_CHARS]), score
    return best


def _pairs(text: str) -> Counter:
    words = _WORD.findall(text.lower())
    return Counter(zip(words, words[1:]))


__all__ = ["DIGEST_SENTENCES", "centre", "section_digest"]
