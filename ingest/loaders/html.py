"""HTML: visible text with headings kept as Markdown headings, tables as Markdown."""

from pathlib import Path

from langchain_core.documents import Document

from ingest.loaders.markdown import split_markdown_sections
from ingest.loaders.tables import rows_to_markdown
from ingest.loaders.text import read_text

_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "table", "blockquote", "dt", "dd")


def load_html(path: Path) -> list[Document]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    parts: list[str] = []
    for el in soup.find_all(_BLOCKS):
        if el.find_parent(("table",) if el.name != "table" else ("__none__",)) is not None:
            continue  # cells are rendered with their table
        if (
            el.name != "table"
            and el.find_parent(("li", "p", "blockquote")) is not None
            and el.name in ("p", "li")
        ):
            continue
        if el.name == "table":
            rows = [
                [c.get_text(" ", strip=True) for c in tr.find_all(("th", "td"))]
                for tr in el.find_all("tr")
            ]
            rows = [r for r in rows if r]
            if rows:
                parts.append(rows_to_markdown(rows))
            continue
        text = el.get_text(" ", strip=True)
        if text:
            parts.append(
                ("#" * int(el.name[1]) + " " + text)
                if el.name[0] == "h" and el.name[1:].isdigit()
                else text
            )
    if not parts:  # no block structure: fall back to all visible text
        parts = [soup.get_text("\n", strip=True)]
    return split_markdown_sections("\n\n".join(parts))
