"""Parse one file into page-tagged chunks, in this process (the isolated worker runs exactly
this)."""

import time
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from ingest.loaders import LoadLimits, load_file
from ingest.loaders.common import PageProgress
from ingest.outline import OutlineEntry, document_outline
from ingest.splitter import ChineseTextSplitter


@dataclass
class ParsedFile:
    chunks: list[Document]
    pages: int
    parse_s: float = 0.0
    split_s: float = 0.0
    outline: list[OutlineEntry] = field(default_factory=list)


def parse_and_split(
    path: Path,
    source: str,
    load_limits: LoadLimits,
    splitter: ChineseTextSplitter,
    on_page: PageProgress | None = None,
) -> ParsedFile:
    """In-process parse + split (what the worker runs; tests may call it directly)."""
    start = time.perf_counter()
    docs = load_file(path, load_limits, source=source, on_page=on_page)
    parsed = time.perf_counter()
    chunks = splitter.split_documents(docs)
    for index, chunk in enumerate(chunks):
        chunk.metadata["chunk_index"] = index
    pages = max((d.metadata.get("page_count") or d.metadata.get("page") or 0) for d in docs)
    outline = document_outline(Path(path), chunks, pages)
    return ParsedFile(chunks, pages, parsed - start, time.perf_counter() - parsed, outline)
