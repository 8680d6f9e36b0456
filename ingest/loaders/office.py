"""DOCX: paragraphs with heading paths, tables as Markdown."""

from pathlib import Path

from langchain_core.documents import Document

from ingest.errors import IngestError
from ingest.loaders.markdown import split_markdown_sections
from ingest.loaders.tables import rows_to_markdown


def load_docx(path: Path) -> list[Document]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise IngestError(f"not a valid .docx file ({type(exc).__name__})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise IngestError(f"not a valid .docx file ({exc.__class__.__name__})") from None
    return split_markdown_sections("\n\n".join(_blocks_as_markdown(document)))


def _blocks_as_markdown(document) -> list[str]:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    out: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name or "") if block.style is not None else ""
            level = _heading_level(style)
            out.append(("#" * level + " " + text) if level else text)
        elif isinstance(block, Table):
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            if rows:
                out.append(rows_to_markdown(rows))
    return out


def _heading_level(style: str) -> int:
    lowered = style.lower()
    if lowered == "title":
        return 1
    for prefix in ("heading ", "标题 "):
        if lowered.startswith(prefix) and lowered[len(prefix) :].isdigit():
            return min(6, int(lowered[len(prefix) :]))
    return 0
