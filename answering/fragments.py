"""Fragment answers, and one more try when the model gives one.

Two fragments seen from the local model on held-out questions: an answer that is nothing but a citation
("[1]"), and, for a question about a name written with a rare character (CJK Extension A), the name's
first character and then the end of the turn (one output token). The same question was answered in
full over different sources, so the retry gives the sources in the reverse order.
"""

import re
from collections.abc import Callable, Iterator

MOST_PREFIX_CHARS = 2  # a longer answer that starts a name of the question is taken as meant
# [1], [1, 2], 【1】, and at the end one still being written ("[1" of a streamed "[1]")
_MARKERS = re.compile(r"\[\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\]|【\d{1,2}】|[\[【][\d\s,，、]*$")
_NOT_WORDS = re.compile(r"[\W_]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+")
# Han characters outside the common block (Extension A, B and on): rare in text, so a small model
# hardly ever writes them and stops before them.
_RARE_HAN = re.compile(r"[\u3400-\u4dbf\U00020000-\U0003134f]")


def is_fragment(answer: str, question: str) -> bool:
    """No words beyond citation markers, or only the character or two of a name in the question that
    come before a rare character there ("李" of "李䶮"). Chinese questions have no spaces, so a short
    answer followed by common characters in the question ("李䶮" in "李䶮是谁") is taken as meant."""
    words = _NOT_WORDS.sub("", _MARKERS.sub("", answer))
    if not words:
        return True
    if len(words) > MOST_PREFIX_CHARS or not _HAN.fullmatch(words):
        return False
    after = [question[m.end():m.end() + 1] for m in re.finditer(re.escape(words), question)]
    return any(_RARE_HAN.match(char) for char in after)


class FragmentRetry:
    """Streams an answer, holding it back while it is still a fragment; a whole answer that stays one is
    asked again once (``again``). ``fragments``: how many fragment answers the model gave (0, 1, or 2
    when the retry was a fragment too; then the one with more words is kept)."""

    def __init__(self, question: str, again: Callable[[], Iterator[str]]):
        self.question, self.again, self.fragments = question, again, 0

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        first = yield from self._unless_fragment(pieces)
        if first is None:
            return
        self.fragments = 1
        second = yield from self._unless_fragment(self.again())
        if second is None:
            return
        self.fragments = 2
        yield max(second, first, key=lambda text: len(_NOT_WORDS.sub("", _MARKERS.sub("", text))))

    def _unless_fragment(self, pieces: Iterator[str]):
        """Yields the answer once it is no fragment; returns the whole text when it stayed one (else None)."""
        held = ""
        pieces = iter(pieces)
        for piece in pieces:
            held += piece
            if not is_fragment(held, self.question):
                yield held
                yield from pieces
                return None
        return held
