"""Hold a short answer back until the model has checked it, and refuse when the check fails.

The model answers a near miss (the passage about the asked subject, without the asked fact) from a
neighbouring sentence with confidence; shown the source its answer cites and asked whether that
source states the answer, it is less sure (llm_backends.answer_check). The check needs the whole
answer, so the answer is shown once it is read. Answers longer than ``MOST_HELD_CHARS``
(explanations, lists) are shown as they come and not checked: a reader would wait too long for
them, and the check was measured on short answers.
"""

import re
import time
from collections.abc import Callable, Iterator

from answering.tidy import is_refusal

_MARKER = re.compile(r"\[(\d{1,2})\]")
MOST_HELD_CHARS = 120  # ~90 tokens of Chinese, ~7 s of the local model: the longest wait we hold


class AnswerCheck:
    """``stream(pieces)``: the answer, or ``no_answer`` when ``check(answer)`` (P(a source states
    it)) is below ``bar``. ``probability``: what the check read (None: not read); ``refused``;
    ``check_ms``."""

    def __init__(
        self,
        check: Callable[[str], float | None] | None,
        bar: float | None,
        no_answer: str,
    ):
        self.check, self.bar, self.no_answer = check, bar, no_answer
        self.probability: float | None = None
        self.refused = False
        self.check_ms: float | None = None  # how long the check took

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        if self.check is None or self.bar is None:
            yield from pieces
            return
        held = ""
        for piece in pieces:
            held += piece
            if len(held) > MOST_HELD_CHARS:
                yield held
                yield from pieces
                return
        if held.strip() and not is_refusal(held):
            start = time.perf_counter()
            self.probability = self.check(held)
            self.check_ms = round((time.perf_counter() - start) * 1000, 1)
            if self.probability is not None and self.probability < self.bar:
                self.refused = True
                held = self.no_answer
        yield held


def cited_source(answer: str, blocks: list[dict]) -> tuple[str, str]:
    """(the text of the sources ``answer`` cites, or of the first source when it cites none; the
    answer without its citation markers): what the check shows the model."""
    cited = {int(n) for n in _MARKER.findall(answer)}
    chosen = [b for b in blocks if b["n"] in cited] or blocks[:1]
    return "\n".join(b["text"] for b in chosen), _MARKER.sub("", answer).strip()
