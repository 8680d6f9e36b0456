"""One loader per file format; each returns page-tagged LangChain ``Document``s."""

from pathlib import Path

from langchain_core.documents import Document

from ingest.errors import IngestError
from ingest.loaders.common import LoadLimits, PageProgress, file_sha256

LOADERS_BY_SUFFIX = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".srt": "subtitles",
    ".vtt": "subtitles",
    ".csv": "table_text",
    ".tsv": "table_text",
    ".json": "json_text",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}
SUPPORTED_EXTENSIONS = tuple(sorted(LOADERS_BY_SUFFIX))


def is_supported(path: str | Path) -> bool:
    return Path(path).suffix.lower() in LOADERS_BY_SUFFIX


def unsupported_reason(path: str | Path) -> str | None:
    """Why a file of this name cannot be read (None when it can): the one wording for every front
    door."""
    if is_supported(path):
        return None
    return (
        f"unsupported file type '{Path(path).suffix or '(none)'}'; supported:"
        f" {', '.join(SUPPORTED_EXTENSIONS)}"
    )


def load_file(
    path: str | Path,
    limits: LoadLimits | None = None,
    source: str | None = None,
    on_page: PageProgress | None = None,
) -> list[Document]:
    """Read one file into Documents with ``source``, ``page`` (paged formats), ``doc_id``.

    ``on_page(done, total, ocr)`` is called after each page of a paged format (``ocr``: that page
    was
    OCR'd). Raises IngestError with a human-readable reason for anything unusable.
    """
    path = Path(path)
    limits = limits or LoadLimits()
    kind = LOADERS_BY_SUFFIX.get(path.suffix.lower())
    if kind is None:
        raise IngestError(
            f"unsupported file type '{path.suffix or '(none)'}'; supported:"
            f" {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror}") from None
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    if size > limits.max_file_bytes:
        raise IngestError(
            f"file too large: {size / 2**20:.1f} MB (limit {limits.max_file_bytes / 2**20:.0f} MB)"
        )
    docs = _dispatch(kind, path, limits, on_page)
    docs = [d for d in docs if d.page_content.strip()]
    if not docs:
        raise IngestError("no text found in the file")
    doc_id = file_sha256(path)
    name = source or path.name
    for doc in docs:
        doc.metadata.update(source=name, doc_id=doc_id)
    return docs


def _dispatch(
    kind: str, path: Path, limits: LoadLimits, on_page: PageProgress | None
) -> list[Document]:
    # Imports are local so that `kb --help` does not pay for PyMuPDF, docx, bs4.
    if kind == "pdf":
        from ingest.loaders.pdf import load_pdf

        return load_pdf(path, limits, on_page)
    if kind == "markdown":
        from ingest.loaders.markdown import load_markdown

        return load_markdown(path)
    if kind == "docx":
        from ingest.loaders.office import load_docx

        return load_docx(path)
    if kind == "html":
        from ingest.loaders.html import load_html

        return load_html(path)
    from ingest.loaders import text

    return {
        "text": text.load_text,
        "subtitles": text.load_subtitles,
        "table_text": text.load_table_text,
        "json_text": text.load_json_text,
    }[kind](path)


__all__ = [
    "Document",
    "IngestError",
    "LoadLimits",
    "SUPPORTED_EXTENSIONS",
    "file_sha256",
    "is_supported",
    "load_file",
]
