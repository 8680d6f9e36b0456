"""The log-probability of each token a local model's answer chose, read while it generates.

A model that copies its answer from a passage stating it is sure of each token; one that guesses
from a passage about a neighbouring fact hesitates where the answer's own words start. The answer
chain reads these values (answering.span_confidence); the model's output is not changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class ChosenTokenLogprobs:
    """llama.cpp logits processor that records (token text, log-probability) for each token the
    answer chose. A step's input ends with the token the step before chose, so each pair is known
    one step late; the answer's last token is never recorded."""

    def __init__(self, llama: Any, prompt_len: int):
        self._llama = llama
        self._prompt_len = prompt_len
        self._last: np.ndarray | None = None  # the previous step's log-probabilities
        self.pairs: list[tuple[str, float]] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._last is not None and len(input_ids) > self._prompt_len:
            token = int(input_ids[-1])
            text = self._llama.detokenize([token]).decode("utf-8", errors="ignore")
            self.pairs.append((text, round(float(self._last[token]), 4)))
        logits = np.asarray(scores, dtype=np.float64)
        top = logits.max()
        self._last = logits - top - np.log(np.exp(logits - top).sum())
        return scores

    def take(self) -> list[tuple[str, float]]:
        """The pairs recorded since the last call."""
        out, self.pairs = self.pairs, []
        return out
