"""Stopping an answer where it starts saying itself again, sentence by sentence.

A small model asked to explain can finish its explanation and start it over ("1. 理解对偶问题的定义
…
4. 总结 … 因此 … 1. 理解对偶问题的定义 …") until its token budget runs out: slow, and the repeat
adds nothing. The local backend already stops short character loops
(``llm_backends.local_engine.is_looping``); this works on whole units, sentences and list items, for
every provider:

- a unit said again: a finished sentence or item equal to an earlier one, or one whose first
  16 Chinese characters (32 letters) repeat an earlier one's start;
- a numbered list restarting: an item numbered as an earlier item, that begins as that item began.

Units are compared without their numbering, citation markers, Markdown emphasis, spaces and
punctuation. While the unit being written still reads as the start of an earlier one, it is held
back (not streamed), so the answer shown ends exactly where the repetition begins.
"""

import re
from collections.abc import Iterator

# Lengths are weights: a Chinese character counts 2, any other character 1 (about a letter of a
# word). an unfinished unit repeating 16 Chinese characters (32 letters) of an earlier one
PREFIX_WEIGHT = 32
MIN_UNIT_WEIGHT = 12  # shorter units ("是的。", "总结", "Yes.") may well be said twice on purpose
# a list item numbered as an earlier one and starting with its first 4 characters
RESTART_WEIGHT = 8

_UNIT_END = re.compile(r"[。！？!?；;]+[”’」』）)]?|(?<=[A-Za-z)\]])\.(?=\s)|\n")
_NUMBERING = re.compile(r"^[\s#>*_]*(?:[-•]\s+|(\d{1,2})\s*[.、)．])")
# the last: a marker still being written
_MARKERS = re.compile(r"\[\d{1,2}\]|【\d{1,2}】|[\[【]\d{0,2}$")
_NOT_WORDS = re.compile(r"[\W_]+")


def _units(text: str) -> list[tuple[int, str, bool]]:
    """(start, text, finished) of each sentence or line of ``text``; the last may be unfinished."""
    units, start = [], 0
    for match in _UNIT_END.finditer(text):
        units.append((start, text[start : match.end()], True))
        start = match.end()
    units.append((start, text[start:], False))
    return [u for u in units if u[1].strip()]


def _shape(unit: str) -> tuple[int | None, str]:
    """(list number or None, the unit's words without numbering, markers, emphasis and
    punctuation)."""
    numbering = _NUMBERING.match(unit)
    number = int(numbering.group(1)) if numbering and numbering.group(1) else None
    body = unit[numbering.end() :] if numbering else unit
    return number, _NOT_WORDS.sub("", _MARKERS.sub("", body)).casefold()


def _head(words: str, weight: int) -> str | None:
    """The shortest start of ``words`` that weighs ``weight`` (None: all of it weighs less)."""
    total = 0
    for n, char in enumerate(words, 1):
        total += 2 if ord(char) >= 0x2E80 else 1
        if total >= weight:
            return words[:n]
    return None


def _repeats(
    number: int | None, words: str, finished: bool, earlier: list[tuple[int | None, str]]
) -> bool:
    prefix, restart = _head(words, PREFIX_WEIGHT), _head(words, RESTART_WEIGHT)
    for old_number, old_words in earlier:
        if finished and words == old_words and _head(words, MIN_UNIT_WEIGHT):
            return True
        if prefix and old_words.startswith(prefix):
            return True
        if (
            restart
            and number is not None
            and number == old_number
            and old_words.startswith(restart)
        ):
            return True
    return False


def _could_repeat(number: int | None, words: str, earlier: list[tuple[int | None, str]]) -> bool:
    """The unit written so far may still turn out to be a repeat (so it is held back)."""
    if not words:
        return number is not None and any(number == n for n, _ in earlier)
    return any(old.startswith(words) for _, old in earlier)


def find_repetition(text: str, final: bool = False) -> int | None:
    """Where in ``text`` the first unit that repeats an earlier one begins (None: no repetition).

    ``final``: the text is the whole answer, so its last unit is finished too.
    """
    earlier: list[tuple[int | None, str]] = []
    for start, unit, finished in _units(text):
        number, words = _shape(unit)
        if _repeats(number, words, finished or final, earlier):
            return start
        earlier.append((number, words))
    return None


def held_from(text: str) -> int:
    """Where the unfinished last unit of ``text`` begins when it may still be a repeat, else
    ``len(text)``."""
    units = _units(text)
    if not units or units[-1][2]:
        return len(text)
    earlier = [_shape(unit) for _, unit, _ in units[:-1]]
    start, unit, _ = units[-1]
    number, words = _shape(unit)
    return start if _could_repeat(number, words, earlier) else len(text)


class RepetitionGuard:
    """Passes streamed text on, holding back a unit that may be a repeat; ``stopped`` once one was
    found."""

    def __init__(self):
        self.text, self.released, self.stopped = "", 0, False

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        """``pieces`` passed on up to where the answer starts repeating itself; the generation is
        closed there, so the model stops writing (a local model's lock is released)."""
        try:
            for piece in pieces:
                out = self._feed(piece)
                if out:
                    yield out
                if self.stopped:
                    return
            end = find_repetition(self.text, final=True)
            self.stopped = end is not None
            tail = self.text[self.released : end]
            if tail:
                yield tail
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()

    def _feed(self, piece: str) -> str:
        self.text += piece
        cut = find_repetition(self.text)
        if cut is not None:
            self.stopped = True
            out, self.released = self.text[self.released : cut], len(self.text)
            return out
        hold = max(held_from(self.text), self.released)
        out, self.released = self.text[self.released : hold], hold
        return out
