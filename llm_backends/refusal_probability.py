"""The model's own probability of refusing, read where the answer starts (recorded as evidence;
``Answer.confidence`` is one minus it).

The answer prompt asks for one fixed refusal sentence, so "the model is about to refuse" is "the
first tokens it would write are that sentence's". After the prompt is evaluated, the logits of the
first answer step are already there: reading them costs nothing, and each further token of the
refusal's prefix costs one decode step. The answer chain asks for it with the ``stream`` keyword
``refusal_probability_of`` (the refusal sentence).
"""

from __future__ import annotations

import re
from typing import Any

from .logits import evaluate, last_logits, softmax

_WORD_UNIT = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[A-Za-z]+")
PREFIX_UNITS = (
    2  # "知识" or "The knowledge": two words (or CJK characters) say a refusal is starting
)


def refusal_prefix(llama: Any, text: str, units: int = PREFIX_UNITS) -> list[int]:
    """The refusal's first tokens, up to the first ``units`` words or CJK characters: one token is
    enough where it is distinctive ("知识"), English needs two ("The" starts answers as well)."""
    tokens = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    for n in range(1, len(tokens) + 1):
        piece = llama.detokenize(tokens[:n]).decode("utf-8", errors="ignore")
        if len(_WORD_UNIT.findall(piece)) >= units:
            return tokens[:n]
    return tokens


def refusal_probability(llama: Any, prompt: list[int], prefix: list[int]) -> float:
    """P(the answer starts with ``prefix``) after ``prompt``. Leaves the prompt evaluated in llama's
    cache, so the generation that follows reads it from there."""
    evaluate(llama, prompt)
    probability = softmax(last_logits(llama))[prefix[0]]
    for k in range(1, len(prefix)):
        llama.eval([prefix[k - 1]])
        probability *= softmax(last_logits(llama))[prefix[k]]
    # the look-ahead tokens are dropped; generate() replays the prompt's last token
    if len(prefix) > 1:
        llama.n_tokens = len(prompt)
        llama._requires_eval = True
    return float(probability)
