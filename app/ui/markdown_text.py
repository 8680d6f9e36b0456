"""Document text as the page shows it: a Markdown source's marks taken out, quoted text escaped."""

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!])")
_MD_MARKUP = (
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.M), ""),  # heading marks
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images: their text
    (re.compile(r"^\s*[-*+]\s+", re.M), "• "),  # list items
)
MARKDOWN_SUFFIXES = (".md", ".markdown")


def readable(text: str, source: str) -> str:
    """A Markdown source's passage as a person reads it: headings, emphasis, code and link marks
    taken out (other formats' text is left as it is)."""
    if not source.lower().endswith(MARKDOWN_SUFFIXES):
        return text
    for pattern, replacement in _MD_MARKUP:
        text = pattern.sub(replacement, text)
    return text


def md_escape(text: str) -> str:
    """Quoted document text shown literally: no headings, links or HTML from inside a chunk."""
    return _MD_SPECIAL.sub(r"\\\1", text)
