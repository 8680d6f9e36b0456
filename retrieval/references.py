"""Numbered references as whole keyword tokens: 式(13.6), 图 3.2, 表4.1, 第3章, Eq. (4.2), Fig. 2,
Section 2.1.

People point into a textbook or a paper by its numbers. A word tokenizer cuts ``13.6`` into ``13``
and ``6``, which every page of chapter 13 holds, so "请推导出式(13.6)" found the chapter, not the
page. Here a dotted number is one token (``n13p6``), and a number with its label word, or an
equation number printed in parentheses, also gives a token of its kind (``eq13p6``, ``fig3p2``,
``sec2p1``). The index and the questions go through the same function, so "式13.6", "公式(13.6)" and
a printed "(13.6)" meet.

Text reaching these functions is already folded (``retrieval.normalize.fold``): half-width, lower
case.
"""

import re
from dataclasses import dataclass

# Label words by kind. Longer words first inside one alternation, so 公式 wins over 式.
_KINDS: dict[str, tuple[str, ...]] = {
    "eq": ("公式", "方程", "式", "equation", "eqn", "eq"),
    "fig": ("图", "figure", "fig"),
    "tab": ("表格", "表", "table", "tab"),
    "thm": ("定理", "theorem", "thm"),
    "lem": ("引理", "lemma"),
    "def": ("定义", "definition"),
    "alg": ("算法", "algorithm", "alg"),
    "ex": ("例题", "习题", "例", "example"),
    "ch": ("章", "chapter", "chap"),
    "sec": ("节", "section", "sec", "§"),
}
_WORD_KIND = {word: kind for kind, words in _KINDS.items() for word in words}
_NUM = r"\d{1,3}(?:\.\d{1,3}){0,3}"
_LABEL = "|".join(sorted(map(re.escape, _WORD_KIND), key=len, reverse=True))
# An English label word must not end a longer word ("subsection 2" is fine, "tables2" is not a
# table).
_BEFORE = re.compile(rf"(?<![a-z])({_LABEL})\.?\s*\(?\s*({_NUM})(?![\d.]*\d)\s*\)?")
_AFTER = re.compile(rf"第\s*({_NUM})\s*([章节])|(?<![\d.])({_NUM})\s*([章节])")
_PAREN = re.compile(rf"\(\s*({_NUM})\s*\)")
# Not inside a longer run of Latin letters, digits and dots (a version string, an IP address counts
# whole).
_DOTTED = re.compile(r"(?<![a-z0-9.])\d{1,4}(?:\.\d{1,4}){1,3}(?![a-z0-9]|\.\d)")


@dataclass(frozen=True)
class Reference:
    kind: str  # "eq", "fig", ..., or "" for a bare dotted number
    number: str  # "13.6"

    @property
    def token(self) -> str:
        """The kind's token (``eq13p6``); a bare dotted number's own (``n13p6``)."""
        return (self.kind or "n") + self.number.replace(".", "p")

    @property
    def number_token(self) -> str | None:
        """The number alone as a token, when it is dotted (``n13p6``): an integer alone means
        little."""
        return "n" + self.number.replace(".", "p") if "." in self.number else None


def number_token(dotted: str) -> str:
    return "n" + dotted.replace(".", "p")


def find_references(text: str) -> list[Reference]:
    """The labelled references in folded ``text``: a label word with its number, 第N章/N节, and a
    number in parentheses (an equation number as printed: "(13.6)"). Each once, in order."""
    found: dict[Reference, None] = {}
    for m in _BEFORE.finditer(text):
        found.setdefault(Reference(_WORD_KIND[m.group(1)], m.group(2)))
    for m in _AFTER.finditer(text):
        number, word = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        found.setdefault(Reference(_WORD_KIND[word], number))
    for m in _PAREN.finditer(text):
        found.setdefault(Reference("eq", m.group(1)))
    return list(found)


def reference_tokens(text: str) -> list[str]:
    """The kind tokens of ``text``'s references (see ``find_references``), each once."""
    return list(dict.fromkeys(r.token for r in find_references(text)))


def join_dotted_numbers(text: str) -> str:
    """``text`` with each dotted number (13.6, 3.2.1) replaced by its one-token form, set apart by
    spaces."""
    return _DOTTED.sub(lambda m: f" {number_token(m.group(0))} ", text)


def split_references(text: str) -> tuple[list[str], str]:
    """(the labelled references of folded ``text`` as written, the text without them), by the same
    patterns as ``find_references``."""
    spans = sorted(
        {m.span() for pattern in (_BEFORE, _AFTER, _PAREN) for m in pattern.finditer(text)}
    )
    kept: list[tuple[int, int]] = []
    for start, end in spans:  # overlapping matches ("式(13.6)" and "(13.6)"): the first, longest
        if kept and start < kept[-1][1]:
            if end > kept[-1][1]:
                kept[-1] = (kept[-1][0], end)
            continue
        kept.append((start, end))
    found = [text[start:end].strip() for start, end in kept]
    rest, last = [], 0
    for start, end in kept:
        rest.append(text[last:start])
        last = end
    rest.append(text[last:])
    return list(dict.fromkeys(found)), " ".join(rest)
