"""Which questions are about a document's structure, and what they name.

Four kinds: the outline ("这本书有哪些章？"), one chapter or section by number or title ("第6章讲了
什么？", "What does Item 7 cover?"), where a topic is treated ("哪一章讲了核函数？"), and the whole
document ("总结一下这本书"). Anything else, and any question these rules are unsure of, goes the
usual way (passage retrieval). The rules were chosen on the tuning half of
bench/answers/structure_questions.jsonl together with the fact questions of the book benchmark
(none of which may be routed here); the report half measures them.
"""

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["outline", "section", "locate", "summary"]

_CN_DIGITS = "零〇一二三四五六七八九十百两"
_NUMBER = rf"[\d{_CN_DIGITS}]+"

_LOCATE = re.compile(
    r"(哪一章|哪章|哪个章节|哪一节|哪节|第几章|第几节|哪个小节|在哪一?[章节])"
    r"|\b(which|what) (chapter|section)s?\b|\bin which (chapter|section)\b"
    r"|\bwhere in (the|this) (book|document|report|paper)\b",
    re.I,
)
_SECTION_NUMBER = re.compile(
    rf"第\s*({_NUMBER})\s*(章|节|部分|篇)|(\d+(?:\.\d+)+)\s*(节|小节)"
    r"|\b(chapter|section|part|item)\s+(\d+[a-z]?(?:\.\d+)*)\b",
    re.I,
)
_SECTION_WORD = re.compile(
    r"(这一章|这章|一章|这一节|这节|一节)|\b(chapter|section) (on|about)\b"
    r"|\bthe [\w -]{2,40} (chapter|section)\b",
    re.I,
)
_COVERS = re.compile(
    r"(讲了什么|讲的什么|讲什么|讲的是什么|讲了哪些|主要内容|什么内容|哪些内容|内容是什么|介绍了什么"
    r"|介绍什么|介绍了哪些|讲述|涵盖|包括哪些|包括什么|包含哪些|包含什么|概述|概括|总结|简述|说了什么"
    r"|讨论了什么|讨论什么|关于什么|有哪些小节|有哪些节|分为哪些)"
    r"|\b(cover|covers|covered|about|summari[sz]e|summary|overview|topics?|contents? of"
    r"|discuss(es)?|what is in|what's in|sections? of)\b",
    re.I,
)
_OUTLINE = re.compile(
    r"((目录|大纲)(是什么|有哪些|是怎样的|$)|(列出|给出|显示|看看|说说).{0,6}(目录|大纲)|章节结构"
    r"|(有|分|包括|包含|分为|分成|列出|列举|一共|总共|共有|由).{0,4}(哪些|哪几|几|多少)个?(章|章节|篇)"
    r"(?!节?[^？?。，,\s]{3,}))"
    r"|\b(table of contents|what are the (chapters|sections)|list (all )?the (chapters|sections)"
    r"|how many (chapters|sections)|which chapters"
    r"|outline of (the|this) (book|document|report|paper)"
    r"|(book|document|report|paper)'s outline)\b",
    re.I,
)
# "这份文档分为哪几个部分？": 部分 counts only for the whole document
_PARTS = re.compile(
    r"(分为|分成|包括|包含|由).{0,4}(哪些|哪几|几|多少)个?部分|\bwhat parts\b", re.I
)
_WHOLE = re.compile(
    r"(这本书|本书|全书|整本书|这份文档|本文档|该文档|这个文档|这篇文章|这篇|本文|这份报告|本报告|该书|文档|报告|书)"
    r"|\b(the|this) (book|document|report|paper|file|manual)\b",
    re.I,
)
# the document itself, not a book or report in general
_WHOLE_ONLY = re.compile(
    r"(这本书|本书|全书|整本书|这份文档|本文档|该文档|这个文档|这篇文章|本文|这份报告|本报告)"
    r"|\b(this|the) (book|document|report|paper|manual)\b\W*$",
    re.I,
)
_SUMMARY = re.compile(
    r"(总结|概括|概述|归纳|简介|综述|主要内容|讲了什么|讲的是什么|讲什么|内容是什么|关于什么|大意|要点)"
    r"|\b(summar(y|ise|ize)|overview|gist|what is (the|this) \w+ about|what does (the|this) \w+ "
    r"cover|main (points|ideas|topics))\b",
    re.I,
)
# a question this long that names a chapter is asking something inside it (a fact question)
_MAX_SECTION_QUESTION = 40


@dataclass(frozen=True)
class StructureQuestion:
    kind: Kind
    number: str | None = None  # "6", "3.2", "7" (Item 7): the section named by its number
    named: str = ""  # the question without its question words: a title or a topic to match
    unit: str = ""  # 章 / 节 / chapter / item ... as the question says it

    def as_dict(self) -> dict:
        return {"kind": self.kind, "number": self.number, "named": self.named, "unit": self.unit}


def classify(question: str) -> StructureQuestion | None:
    """The structure question ``question`` is, or None for any other (the usual way)."""
    text = " ".join(question.split())
    if not text or len(text) > 200:
        return None
    if _LOCATE.search(text) and len(topic := _named(text, _LOCATE)) >= 2:
        return StructureQuestion("locate", named=topic)
    number = _SECTION_NUMBER.search(text)
    covers = _COVERS.search(text)
    if number and (covers or len(_named(text, _SECTION_NUMBER)) <= 2):
        if len(text) > _MAX_SECTION_QUESTION and not covers:
            return None
        digits = number.group(1) or number.group(3) or number.group(6)
        unit = number.group(2) or number.group(4) or number.group(5) or ""
        return StructureQuestion(
            "section", to_arabic(digits), named=_named(text, _SECTION_NUMBER), unit=unit.lower()
        )
    if number:
        return None  # a question inside a chapter ("第3章的式(3.7)怎么推导？")
    if _OUTLINE.search(text) or (_PARTS.search(text) and _WHOLE_ONLY.search(text)):
        return StructureQuestion("outline")
    if covers and _SECTION_WORD.search(text) and not _WHOLE.search(text):
        return StructureQuestion("section", named=_named(text, _SECTION_WORD))
    if _WHOLE.search(text) and _SUMMARY.search(text) and len(text) <= _MAX_SECTION_QUESTION:
        return StructureQuestion("summary")
    return None


def _named(text: str, *patterns: re.Pattern) -> str:
    """What is left of the question once its question words are taken out: the topic or title."""
    for pattern in (*patterns, _COVERS, _WHOLE, _ASKING):
        text = pattern.sub(" ", text)
    return " ".join(text.split()).strip(" ,，。？?！!、:：")


_ASKING = re.compile(
    r"(请问|请|一下|在|中|里|的|了|是|吗|呢|讨论|介绍|讲|提到|哪里|什么|告诉我|说说)"
    r"|\b(what|which|where|does|do|is|are|the|this|of|in|on|a|an|tell me|please|discussed|"
    r"covered|treated|explained|introduced)\b|[「」“”\"《》?？]",
    re.I,
)


def to_arabic(number: str) -> str:
    """'6' -> '6', '十二' -> '12', '3.2' -> '3.2'."""
    if not number or number[0].isdigit():
        return number
    values = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    total, current = 0, 0
    for char in number:
        if char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
        else:
            current = values.get(char, 0)
    return str(total + current)


__all__ = ["StructureQuestion", "classify", "to_arabic"]
