"""Does a passage speak of what the question names? One signal of the refusal decision.

A small model handed passages about a neighbouring subject (another station on the same railway,
another church in the same city) answers from them instead of saying the documents do not hold the
answer. The names a question asks about are the ones a tagger calls names: jieba's part-of-speech
tags for person, place, organisation and other proper nouns (``nr*``, ``ns``, ``nt``, ``nz``), and
in English runs of two or more capitalised words ("Denver Broncos"). No word lists: what counts as a
name is the tagger's and the spelling's, so it carries to documents nobody here has read. When the
passages are in the question's language and miss one of those names, the question is not about them,
unless the knowledge base mentions the name elsewhere (``known``). Measured in bench/answers.py
(README, "Answer quality").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from language import is_chinese

_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Two or more capitalised words in a row, the question's first word not counted ("Who coached ...").
_ENGLISH_NAME = re.compile(r"(?<=\s)[A-Z][\w\-']*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w\-']*)+")
_NAME_TAGS = ("nr", "ns", "nt", "nz")
_INTERROGATIVES = ("哪", "什么", "何")  # jieba tags 哪个, 什么, 何种 ... as pronouns (r)
_NAME_DOTS = "·•‧・"  # jieba: person (nr, nrfg, nrt), place, organisation, other proper noun


class NameCheck:
    """``missing(question, passages)``: the question's names that none of the passages contain."""

    def __init__(self):
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)
        self._tagger = jieba.posseg.POSTokenizer(jieba.Tokenizer())

    def names(self, question: str) -> list[str]:
        if is_chinese(question):
            words = _join_transliterations([(w.word, w.flag) for w in self._tagger.cut(question)])
            return list(
                dict.fromkeys(
                    word
                    for i, (word, flag) in enumerate(words)
                    if len(word) >= 2
                    and _CJK_CHAR.search(word)
                    and flag.startswith(_NAME_TAGS)
                    and not _asked_for(words[:i])
                )
            )
        return list(dict.fromkeys(m.group(0) for m in _ENGLISH_NAME.finditer(question.strip())))

    def missing(
        self, question: str, passages: list[str], known: Callable[[str], bool] | None = None
    ) -> list[str]:
        """The question's names that no passage mentions; with ``known`` (does the knowledge base
        hold this text anywhere?), only those the knowledge base does not hold either."""
        text = "\n".join(passages)
        if is_chinese(question) != is_chinese(text):
            # a cross-language question: names are written differently, nothing to compare
            return []
        folded = text.casefold()
        missing = [name for name in self.names(question) if not _mentioned(name.casefold(), folded)]
        if known is not None:
            missing = [
                name for name in missing if not any(known(form) for form in _written_forms(name))
            ]
        return missing


def _asked_for(before: list[tuple[str, str]]) -> bool:
    """The word after these is what the question asks for (哪个**城市**, 什么**公司**):
    an interrogative pronoun, then numerals and classifiers only. That word is the answer's kind,
    not a name the question is about (jieba tags 城市 a place name)."""
    for word, flag in reversed(before):
        if flag.startswith(("m", "q")):
            continue
        return flag.startswith("r") and any(mark in word for mark in _INTERROGATIVES)
    return False


def _join_transliterations(words: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A transliterated name is written with middle dots (吉格梅·多吉·旺楚克), or without them, as
    person-name pieces in a row (格雷厄姆特威格: given name and surname): its pieces make one name,
    mentioned when a piece is, as an English name is through one of its words (a translated
    passage may give the surname alone)."""
    joined: list[tuple[str, str]] = []
    for word, flag in words:
        dotted = joined and (word in _NAME_DOTS or joined[-1][0][-1:] in _NAME_DOTS)
        if dotted or (joined and flag.startswith("nr") and joined[-1][1].startswith("nr")):
            previous, previous_flag = joined.pop()
            joined.append(
                (previous + word, previous_flag if previous_flag.startswith(_NAME_TAGS) else flag)
            )
        else:
            joined.append((word, flag))
    return [(word.strip(_NAME_DOTS), flag) for word, flag in joined]


def _written_forms(name: str) -> list[str]:
    """How a name would be written in a document: a Chinese one whole, an English one word by word
    through each word's stem, capitalised as in the question."""
    if _CJK_CHAR.match(name):
        return [name]
    return list(dict.fromkeys(_stem(word) for word in name.split() if word[:1].isupper()))


def _mentioned(name: str, text: str) -> bool:
    """A Chinese name counts as mentioned when one of its two-character pieces is (合作开发 ~ 合作),
    a two-character one only whole; an English one when one of its capitalised words is, through its
    stem (Pro Bowlers ~ Pro Bowl): a passage about the same team or person names part of it."""
    if not _CJK_CHAR.match(name):
        return any(_stem(word) in text for word in name.split() if len(word) > 2)
    if len(name) <= 2:
        return name in text
    return any(name[i : i + 2] in text for i in range(len(name) - 1))


def _stem(word: str) -> str:
    return word[: max(4, len(word) - 3)]
