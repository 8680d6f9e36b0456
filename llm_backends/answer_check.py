"""The model's check of an answer: shown the source the answer cites, the question and the answer,
and asked whether the source states that answer, it replies yes or no; what is read is P(yes)
against P(no) at the reply's first step (one prompt read, nothing generated).

A passage about the asked subject that lacks the asked fact (a near miss) makes a small model
answer from a neighbouring sentence. Asked in the answer's own conversation it confirms itself
(P(yes) 0.93-0.98 for right answers and near misses alike, CMRC tuning half); shown the cited
source alone, it is less sure of the near misses (docs/benchmarks.md, "The answer check"). The read
runs in a second llama.cpp context (``LocalEngine.check_context``), so the answer prompt's cache,
which the next question reuses, stays.
"""

from __future__ import annotations

from typing import Any

from .logits import evaluate, last_logits, softmax

# What a yes/no reply starts with, in either language the prompts ask in.
YES_STARTS = ("yes", "Yes", "YES", " yes", " Yes", "是")
NO_STARTS = ("no", "No", "NO", " no", " No", "否", "不")


def yes_probability(llama: Any, prompt: list[int]) -> float:
    """P(the reply starts with yes) / (P(yes) + P(no)) after ``prompt`` (0.5 when the model
    would start with neither)."""
    evaluate(llama, prompt)
    probabilities = softmax(last_logits(llama))
    yes = sum(float(probabilities[t]) for t in _single_tokens(llama, YES_STARTS))
    no = sum(float(probabilities[t]) for t in _single_tokens(llama, NO_STARTS))
    return yes / (yes + no) if yes + no > 0 else 0.5


def _single_tokens(llama: Any, words: tuple[str, ...]) -> set[int]:
    """The words the tokenizer writes as one token (the others cannot start a reply in one step)."""
    ids = (llama.tokenize(w.encode("utf-8"), add_bos=False, special=False) for w in words)
    return {tokens[0] for tokens in ids if len(tokens) == 1}
