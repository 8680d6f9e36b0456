"""Reading llama.cpp's next-token distribution after a prompt: evaluate the prompt (reusing what
the cache already holds of it), then the last position's logits as probabilities."""

from __future__ import annotations

from typing import Any

import numpy as np


def evaluate(llama: Any, tokens: list[int]) -> None:
    """Evaluate ``tokens``, reusing what the cache already holds of them (as ``Llama.generate``
    does)."""
    cached = 0
    for a, b in zip(llama._input_ids, tokens):
        if a != b:
            break
        cached += 1
    if cached == len(tokens) == llama.n_tokens and not llama._requires_eval:
        return  # the logits of the prompt's last token are current
    # at least one token evaluated: its logits are the answer step's
    cached = min(cached, len(tokens) - 1)
    llama.n_tokens = cached
    llama.eval(tokens[cached:])


def last_logits(llama: Any) -> np.ndarray:
    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(llama.n_vocab(),)).astype(
        np.float64
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max())
    return shifted / shifted.sum()
