"""Fragment answers, and one more try when the model gives one.

Fragments seen from the local model: an answer that is nothing but a citation ("[1]"); one that says
the question back and cites ("对数几率回归的似然函数对 β 的二阶导数为 [3]。": 3 of 10 explanatory
book questions); and, for a question about a name written with a rare character (CJK Extension A),
the name's first character and then the end of the turn (one output token). The same question was
answered in full over different sources, so the retry gives the sources in the reverse order, with a
note after the question that asks for the answer itself (without the name, for a name's first
character).
"""

import re
from collections.abc import Callable, Iterator

MOST_PREFIX_CHARS = 2  # a longer answer that starts a name of the question is taken as meant
# [1], [1, 2], 【1】, and at the end one still being written ("[1" of a streamed "[1]")
_MARKERS = re.compile(r"\[\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\]|【\d{1,2}】|[\[【][\d\s,，、]*$")
_NOT_WORDS = re.compile(r"[\W_]+")
# A source line's "[1] (book.pdf, p.23)" copied before the answer (answering.tidy moves it), or its
# start.
_COPIED_PREFIX = re.compile(r"^\s*[\[【]\d{1,2}[\]】]\s*\([^)]*\)?")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f]+")
# Han characters outside the common block (Extension A, B and on): rare in text, so a small model
# hardly ever writes them and stops before them.
_RARE_HAN = re.compile(r"[\u3400-\u4dbf\U00020000-\U0003134f]")
# What joins a question said back to its citation ("…是 [1]", "…分别是 [1] 和 [2]"): no content.
_LINKS = frozenset("是为和与及的了即见如下所示分别")
# A choice or yes/no question holds its answer ("…还是…？" -> "李䶮"; "是不是…？" -> "是").
_CHOICE = re.compile(r"还是|是不是|是否|有没有|能不能|吗\W*$|\bor\b", re.IGNORECASE)
_RETRY_NOTE = {
    "zh": "（请直接写出答案本身，不要只写出处编号或重复问题。）",
    "en": " (Write the answer itself, not only a source number.)",
}
# The model stops before a rare character it would have to write: ask for the answer without the
# name. (Measured on 4 such fragments: this note recovered 2; naming "this person" in the question
# instead, the same 2.)
_SPELL_NOTE = {
    "zh": "（直接写出答案，不要重复“{}”这个名字。）",
    "en": ' (Give the answer without repeating "{}".)',
}


def is_fragment(answer: str, question: str, final: bool = True) -> bool:
    """No words beyond citation markers and the question's own words (Chinese questions), or only
    the character or two of a name in the question that come before a rare character there ("李" of
    "李䶮"). ``final=False``: the answer is still being written (its last character may begin a run
    of the question)."""
    words = _words(_COPIED_PREFIX.sub("", answer))
    if not words:
        return True
    if (
        _HAN.search(question)
        and not _CHOICE.search(question)
        and _says_back(words, _words(question), final)
    ):
        return True
    return bool(_name_before_rare(words, question))


def retry_question(question: str, fragment: str, lang: str) -> str:
    """The question asked again after ``fragment``, with a note: give the answer without the name
    the fragment began, or give the answer itself."""
    name = _name_before_rare(_words(fragment), question)
    if name:
        return question + _SPELL_NOTE.get(lang, _SPELL_NOTE["en"]).format(name)
    return question + _RETRY_NOTE.get(lang, _RETRY_NOTE["en"])


def _words(text: str) -> str:
    return _NOT_WORDS.sub("", _MARKERS.sub("", text)).casefold()


def _says_back(words: str, question: str, final: bool) -> bool:
    """``words`` are runs of the question (two characters or more) joined by linking characters
    only; unless ``final``, the last character alone may be the start of a run still being written.
    """
    at = 0
    while at < len(words):
        size = next((n for n in range(len(words) - at, 1, -1) if words[at : at + n] in question), 0)
        last = not final and at == len(words) - 1 and words[at] in question
        if not size and not last and words[at] not in _LINKS:
            return False
        at += size or 1
    return True


def _name_before_rare(words: str, question: str) -> str:
    """``words`` with the rare characters that follow them in the question ("李䶮" for "李"), or
    ""."""
    if not words or len(words) > MOST_PREFIX_CHARS or not _HAN.fullmatch(words):
        return ""
    for match in re.finditer(re.escape(words), question):
        rare = re.match(f"{_RARE_HAN.pattern}+", question[match.end() :])
        if rare:
            return words + rare.group()
    return ""


class FragmentRetry:
    """Streams an answer, holding it back while it is still a fragment; a whole answer that stays
    one is asked again once (``again(fragment)``). ``fragments``: how many fragment answers the
    model gave (0, 1, or 2 when the retry was a fragment too; then the one with more words is kept).

    ``no_answer``: when both attempts said the question back and nothing else, this (the refusal
    sentence) is the answer instead (``gave_up``): twice the model found nothing to add to the
    question ("中国空间技术研究院属于中国空间技术研究院。"), which is how it answers a question
    whose passage lacks the fact. Kept as they are: a name's first character twice (the name is
    there, the model cannot write it) and citations alone twice (a small model failing to write,
    not a sign the fact is missing; gemma-3-270m does this over the test guide).
    """

    def __init__(
        self,
        question: str,
        again: Callable[[str], Iterator[str]],
        no_answer: str | None = None,
    ):
        self.question, self.again, self.no_answer = question, again, no_answer
        self.fragments, self.gave_up = 0, False

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        first = yield from self._unless_fragment(pieces)
        if first is None:
            return
        self.fragments = 1
        second = yield from self._unless_fragment(self.again(first))
        if second is None:
            return
        self.fragments = 2
        kept = max(second, first, key=lambda text: len(_NOT_WORDS.sub("", _MARKERS.sub("", text))))
        words = _words(_COPIED_PREFIX.sub("", kept))
        if self.no_answer and words and not _name_before_rare(words, self.question):
            self.gave_up = True
            kept = self.no_answer
        yield kept

    def _unless_fragment(self, pieces: Iterator[str]):
        """Yields the answer once it is no fragment; returns the whole text when it stayed one (else
        None)."""
        held = ""
        pieces = iter(pieces)
        for piece in pieces:
            held += piece
            if not is_fragment(held, self.question, final=False):
                yield held
                yield from pieces
                return None
        if not is_fragment(held, self.question):
            yield held
            return None
        return held
