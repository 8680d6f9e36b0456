"""Does a passage speak of what the question names? A cheap check before the model is asked.

A small model handed passages about a neighbouring subject (another station on the same railway,
another church in the same city) answers from them instead of saying the documents do not hold the
answer. The names a question asks about are its rare words: Chinese words jieba's dictionary rates
rare or does not know (person and place names mostly), and capitalised English words after the
first. When the passages are in the question's language and miss one of those names, the question
is not about them, unless the knowledge base mentions the name elsewhere (``known``): then the
question may well be about the documents (a textbook's terms sit in headings and on other pages) and
the model reads the passages. Measured on the
book of the long-document benchmark and CMRC/SQuAD knowledge bases (README, "Answer quality").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

_CJK_WORD = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]{2,}$")
_CAPITALISED = re.compile(r"(?<=\s)[A-Z][A-Za-z\-]+")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
RARE_BELOW = 300  # jieba dictionary frequency; common words run to thousands, names to tens or 0
_QUESTION_CHARS = set("哪谁几多少什么怎吗呢")  # 哪国, 哪几个: question words, not names
# Function characters jieba glues to an unknown neighbour (晏是 -> 晏; 数据集时 -> 集时, 样本中非 -> 中非): stripped.
_FUNCTION_CHARS = "的是了在有和与及为被把将从对于也都时中下用需要能"


class NameCheck:
    """``missing(question, passages)``: the question's names that none of the passages contain."""

    def __init__(self, rare_below: int = RARE_BELOW):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.check_initialized()
        self.rare_below = rare_below

    def names(self, question: str) -> list[str]:
        if _is_chinese(question):
            words = [w.strip(_FUNCTION_CHARS) for w in self._jieba.cut(question) if _CJK_WORD.match(w)]
            return list(dict.fromkeys(w for w in words if len(w) >= 2 and not _QUESTION_CHARS & set(w)
                                      and self._jieba.FREQ.get(w, 0) < self.rare_below))
        return list(dict.fromkeys(_CAPITALISED.findall(question.strip())))  # the first word is no name

    def missing(self, question: str, passages: list[str], known: Callable[[str], bool] | None = None) -> list[str]:
        """The question's names that no passage mentions; with ``known`` (does the knowledge base hold this
        text anywhere?), only those the knowledge base does not hold either."""
        text = "\n".join(passages)
        if _is_chinese(question) != _is_chinese(text):
            return []  # a cross-language question: names are written differently, nothing to compare
        folded = text.casefold()
        missing = [name for name in self.names(question) if not _mentioned(name.casefold(), folded)]
        if known is not None:
            missing = [name for name in missing if not any(known(form) for form in _written_forms(name))]
        return missing


def _written_forms(name: str) -> list[str]:
    """How a name would be written in a document: a Chinese one whole (its pieces are too common to
    count across a whole knowledge base), an English one through its stem, capitalised or not."""
    if _CJK_CHAR.match(name):
        return [name]
    stem = name[: max(4, len(name) - 3)]
    return list(dict.fromkeys([stem, stem.lower()]))


def _mentioned(name: str, text: str) -> bool:
    """A Chinese name counts as mentioned when one of its two-character pieces is (合作开发 ~ 合作),
    a two-character one only whole; an English word through its stem (Bowlers ~ Bowl)."""
    if not _CJK_CHAR.match(name):
        return name[: max(4, len(name) - 3)] in text
    if len(name) <= 2:
        return name in text
    return any(name[i:i + 2] in text for i in range(len(name) - 1))


def _is_chinese(text: str) -> bool:
    cjk = len(_CJK_CHAR.findall(text))
    latin = len(re.findall(r"[A-Za-z]", text))
    return cjk > 0 and cjk / (cjk + latin) >= 0.2
