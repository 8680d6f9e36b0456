"""Which language a text is in, decided in one place: prompts pick their template by it, the name
check and query focusing apply to Chinese questions by it.

Han ideographs, CJK punctuation and full-width forms count as Chinese. One Han character carries
roughly a word, so text is Chinese when such characters make up at least 20% of its letters: "请解释
transformer 的 attention 机制" is Chinese.
"""

import re
from typing import Literal

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
CHINESE_SHARE = 0.2

__all__ = ["CJK", "detect_language", "is_chinese"]


def detect_language(text: str) -> Literal["zh", "en"]:
    """'zh' when CJK characters make up at least 20% of the letters, else 'en'."""
    cjk = len(CJK.findall(text or ""))
    latin = len(_LATIN.findall(text or ""))
    if cjk == 0:
        return "en"
    return "zh" if cjk / (cjk + latin) >= CHINESE_SHARE else "en"


def is_chinese(text: str) -> bool:
    return detect_language(text) == "zh"
