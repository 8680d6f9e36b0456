"""Evaluation metrics as pure functions (formulas in docs/eval.md).

Answer metrics follow SQuAD (lower-case, drop punctuation, drop the articles
a/an/the, collapse whitespace; token-overlap F1). When either side contains
CJK text the tokens are CMRC 2018 style: each CJK character is a token, runs
of other characters (ASCII words, numbers) stay together. Unanswerable
questions (no gold answers) score 1 when the prediction is a refusal.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath

DEFAULT_REFUSAL_PHRASES: tuple[str, ...] = (
    "知识库中没有找到",
    "知识库中未找到",
    "知识库中没有",
    "没有找到相关",
    "未找到相关",
    "无法根据",
    "无法回答",
    "does not contain",
    "doesn't contain",
    "do not contain",
    "don't contain",
    "no relevant information",
    "not found in the knowledge base",
    "cannot answer",
    "can't answer",
    "unable to answer",
)

LATENCY_STAGES: tuple[str, ...] = ("retrieve_ms", "first_token_ms", "generate_ms", "total_ms")

_EXTRA_PUNCTUATION = frozenset(string.punctuation) | frozenset("～￥·—…")
_CITATION_MARKER = re.compile(r"\[\d+(?:\s*[,，、]\s*\d+)*\]")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\U00020000-\U0002fa1f]")


# ---------------------------------------------------------------- normalisation


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def _is_punctuation(char: str) -> bool:
    return char in _EXTRA_PUNCTUATION or unicodedata.category(char).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation extended to CJK punctuation and ``[n]`` citation markers."""
    text = unicodedata.normalize("NFKC", _CITATION_MARKER.sub(" ", text)).lower()
    text = "".join(" " if char.isspace() else char for char in text if not _is_punctuation(char))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str, cjk: bool | None = None) -> list[str]:
    """Tokens of the normalised text; character-level for CJK (``cjk=None``: detect)."""
    normalized = normalize_answer(text)
    if cjk is None:
        cjk = has_cjk(normalized)
    if not cjk:
        return normalized.split()
    tokens: list[str] = []
    word = ""
    for char in normalized:
        if _CJK.match(char) or char == " ":
            if word:
                tokens.append(word)
                word = ""
            if char != " ":
                tokens.append(char)
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


# ---------------------------------------------------------------- answers


def is_refusal(prediction: str, phrases: Iterable[str] = DEFAULT_REFUSAL_PHRASES) -> bool:
    """True when the prediction contains one of the refusal phrases (case-insensitive)."""
    text = prediction.replace("\u2019", "'").casefold()
    return any(phrase.casefold() in text for phrase in phrases)


def _unanswerable_score(prediction: str, refusal_phrases: Iterable[str]) -> float:
    return 1.0 if is_refusal(prediction, refusal_phrases) else 0.0


def exact_match(
    prediction: str, golds: Sequence[str], refusal_phrases: Iterable[str] = DEFAULT_REFUSAL_PHRASES
) -> float:
    """1.0 when the normalised prediction equals a normalised gold, else 0.0."""
    if not golds:
        return _unanswerable_score(prediction, refusal_phrases)
    return max(_exact_match_one(prediction, gold) for gold in golds)


def _exact_match_one(prediction: str, gold: str) -> float:
    cjk = has_cjk(prediction) or has_cjk(gold)
    return float(answer_tokens(prediction, cjk) == answer_tokens(gold, cjk))


def f1(
    prediction: str, golds: Sequence[str], refusal_phrases: Iterable[str] = DEFAULT_REFUSAL_PHRASES
) -> float:
    """Token-overlap F1, the best over the golds."""
    if not golds:
        return _unanswerable_score(prediction, refusal_phrases)
    return max(_f1_one(prediction, gold) for gold in golds)


def _f1_one(prediction: str, gold: str) -> float:
    cjk = has_cjk(prediction) or has_cjk(gold)
    pred_tokens, gold_tokens = answer_tokens(prediction, cjk), answer_tokens(gold, cjk)
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def contains_answer(
    prediction: str, golds: Sequence[str], refusal_phrases: Iterable[str] = DEFAULT_REFUSAL_PHRASES
) -> float:
    """1.0 when a normalised gold occurs inside the normalised prediction (generative answers)."""
    if not golds:
        return _unanswerable_score(prediction, refusal_phrases)
    return float(any(text_contains_answer(prediction, gold) for gold in golds))


# ---------------------------------------------------------------- retrieval


def _match_key(text: str, cjk: bool) -> str:
    normalized = normalize_answer(text)
    return normalized.replace(" ", "") if cjk else f" {normalized} "


def text_contains_answer(text: str, answer: str) -> bool:
    """Whether the normalised answer occurs in the normalised text (whole words outside CJK)."""
    cjk = has_cjk(answer) or has_cjk(text)
    key = _match_key(answer, cjk)
    return bool(key.strip()) and key in _match_key(text, cjk)


def same_source(a: str | None, b: str | None) -> bool:
    """Sources match on their file name (directories and case ignored)."""
    if not a or not b:
        return False
    return (
        PurePosixPath(a.replace("\\", "/")).name.casefold()
        == PurePosixPath(b.replace("\\", "/")).name.casefold()
    )


def _as_page(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def is_gold_hit(
    hit: Mapping, answers: Sequence[str], source: str | None = None, page: int | None = None
) -> bool:
    """A hit counts when its text contains a gold answer, or when it comes from
    the gold location: ``source`` (if given) and ``page`` (if given) both match."""
    text = hit.get("text") or ""
    if any(text_contains_answer(text, answer) for answer in answers):
        return True
    if source is None and page is None:
        return False
    if source is not None and not same_source(hit.get("source"), source):
        return False
    return page is None or _as_page(hit.get("page")) == page


def first_hit_rank(
    hits: Sequence[Mapping],
    answers: Sequence[str],
    source: str | None = None,
    page: int | None = None,
) -> int | None:
    """1-based rank of the first gold hit, or None when no hit qualifies."""
    for rank, hit in enumerate(hits, start=1):
        if is_gold_hit(hit, answers, source, page):
            return rank
    return None


def first_page_rank(hits: Sequence[Mapping], page: int, source: str | None = None) -> int | None:
    """1-based rank of the first hit on the gold page (and source, if given)."""
    for rank, hit in enumerate(hits, start=1):
        if _as_page(hit.get("page")) == page and (
            source is None or same_source(hit.get("source"), source)
        ):
            return rank
    return None


def hit_at_k(ranks: Sequence[int | None], k: int) -> float | None:
    """Share of questions whose first gold hit is within the top k (None = miss)."""
    if not ranks:
        return None
    return sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank; a miss contributes 0."""
    if not ranks:
        return None
    return sum(1.0 / rank for rank in ranks if rank is not None) / len(ranks)


# ---------------------------------------------------------------- refusals


def refusal_scores(
    refused: Sequence[bool], unanswerable: Sequence[bool]
) -> dict[str, float | int | None]:
    """Precision/recall of refusing, with the unanswerable questions as positives."""
    if len(refused) != len(unanswerable):
        raise ValueError("refused and unanswerable must have the same length")
    true_pos = sum(1 for r, u in zip(refused, unanswerable) if r and u)
    n_refused, n_unanswerable = sum(map(bool, refused)), sum(map(bool, unanswerable))
    precision = true_pos / n_refused if n_refused else None
    recall = true_pos / n_unanswerable if n_unanswerable else None
    return {
        "refusal_precision": precision,
        "refusal_recall": recall,
        "n_refused": n_refused,
        "n_unanswerable": n_unanswerable,
    }


# ---------------------------------------------------------------- aggregation


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None (None when there are none)."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """q-th percentile (0–100) with linear interpolation between order statistics."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(
    timings: Iterable[Mapping[str, float | None]],
    stages: Sequence[str] = LATENCY_STAGES,
    quantiles: Sequence[float] = (50, 95),
) -> dict[str, dict[str, float | int | None]]:
    """Per stage: ``{"n", "p50", "p95", ...}`` over the timings that report it."""
    timings = list(timings)
    summary: dict[str, dict[str, float | int | None]] = {}
    for stage in stages:
        values = [float(v) for t in timings if (v := t.get(stage)) is not None]
        row: dict[str, float | int | None] = {"n": len(values)}
        for q in quantiles:
            row[f"p{q:g}"] = percentile(values, q)
        summary[stage] = row
    return summary
