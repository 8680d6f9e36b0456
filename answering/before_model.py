"""The refusal decision before the model runs: the relevance bar, the name check and the sentence
bar, in that order. Each refusal here costs no generation; its name goes into ``refused_by``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from answering.context import context_blocks, relevant_hits, texts_in_language
from retrieval import Hit

if TYPE_CHECKING:
    from answering.chain import ChainOptions


def sources_or_refusal(
    found: list[Hit],
    query: str,
    lang: str,
    options: ChainOptions,
    signals: dict,
    missing_names: Callable[[str, list[str]], list[str]] | None = None,
    sentence_score: Callable[[str, list[str]], float | None] | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> tuple[list[dict], str | None]:
    """The source blocks the model would read, and who refuses before it (None: nobody). What each
    check read goes into ``signals``; ``count_tokens``: the model's own token count (the budget)."""
    hits = relevant_hits(found, _bar(options, lang), options.min_cross_lingual_score, lang)
    blocks = context_blocks(hits, options.context_tokens, count_tokens)
    if not blocks:
        return blocks, "relevance"
    if missing_names:
        signals["missing_names"] = missing_names(query, [b["text"] for b in blocks])
        # the passages are about something else: refuse rather than let the model guess
        if signals["missing_names"]:
            return blocks, "names"
    if _unsupported(query, blocks, lang, options, signals, sentence_score):
        return blocks, "sentence"
    return blocks, None


def _bar(options: ChainOptions, lang: str) -> float:
    if lang == "en" and options.min_dense_score_en is not None:
        return options.min_dense_score_en
    return options.min_dense_score


def _unsupported(
    query: str,
    blocks: list[dict],
    lang: str,
    options: ChainOptions,
    signals: dict,
    sentence_score: Callable[[str, list[str]], float | None] | None,
) -> bool:
    """No sentence of the sources in the question's language comes close to the question: they
    speak of its subject, but nothing in them states what it asks."""
    bar = options.min_sentence_score
    if lang == "en" and options.min_sentence_score_en is not None:
        bar = options.min_sentence_score_en
    same = texts_in_language(blocks, lang)
    if bar is None or sentence_score is None or not same:
        return False
    score = sentence_score(query, same)
    signals["best_sentence_score"] = score
    return score is not None and score < bar
