"""The model's own check of the answer it just gave.

Asked in the same conversation whether one of the sources states that answer, the model replies
yes or no; what is read is P(yes) against P(no) at the reply's first step. The conversation up to
the answer is already in llama.cpp's cache, so only the new question is read (tens of tokens).
A passage about the asked subject that lacks the asked fact (a near miss) makes a small model answer
from a neighbouring sentence; asked afterwards, it is less sure a source states that answer.
"""

from __future__ import annotations

from typing import Any

from .refusal_gate import _evaluate, _last_logits, _softmax

# What a yes/no reply starts with, in either language the prompts ask in.
YES_STARTS = ("yes", "Yes", "YES", " yes", " Yes", "是")
NO_STARTS = ("no", "No", "NO", " no", " No", "否", "不")


def yes_probability(llama: Any, prompt: list[int]) -> float:
    """P(the reply starts with yes) / (P(yes) + P(no)) after ``prompt`` (0.5 when the model
    would start with neither)."""
    _evaluate(llama, prompt)
    probabilities = _softmax(_last_logits(llama))
    yes = sum(float(probabilities[t]) for t in _single_tokens(llama, YES_STARTS))
    no = sum(float(probabilities[t]) for t in _single_tokens(llama, NO_STARTS))
    return yes / (yes + no) if yes + no > 0 else 0.5


def _single_tokens(llama: Any, words: tuple[str, ...]) -> set[int]:
    """The words the tokenizer writes as one token (the others cannot start a reply in one step)."""
    ids = (llama.tokenize(w.encode("utf-8"), add_bos=False, special=False) for w in words)
    return {tokens[0] for tokens in ids if len(tokens) == 1}
