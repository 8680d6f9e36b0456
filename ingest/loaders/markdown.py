"""Markdown: split on headings, keep the heading path on each section."""

import re
from pathlib import Path

from langchain_core.documents import Document

from ingest.loaders.text import read_text

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# a fence line: ``` with no backtick after it (```{text}``` is inline code), or ~~~
_FENCE = re.compile(r"^\s*(```(?!.*`)|~~~)")


def load_markdown(path: Path) -> list[Document]:
    return split_markdown_sections(read_text(path))


def split_markdown_sections(text: str) -> list[Document]:
    """One Document per section; metadata ``headings`` is "H1 > H2 > H3"."""
    sections: list[Document] = []
    stack: list[tuple[int, str]] = []
    buf: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(buf).strip()
        if body:
            path = " > ".join(title for _, title in stack)
            sections.append(Document(page_content=body, metadata={"headings": path}))
        buf.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            flush()
            level, title = len(match.group(1)), match.group(2).strip()
            stack[:] = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
        buf.append(line)
    flush()
    return sections
