"""Plain text and text-like formats (subtitles, CSV/TSV, JSON)."""

import csv
import io
import json
import re
from pathlib import Path

from langchain_core.documents import Document

from ingest.errors import IngestError
from ingest.loaders.common import decode_text

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def read_text(path: Path) -> str:
    text = decode_text(path.read_bytes())
    if len(_CONTROL.findall(text[:20000])) > max(10, len(text[:20000]) // 50):
        raise IngestError("not a text file (binary content)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_text(path: Path) -> list[Document]:
    return [Document(page_content=read_text(path), metadata={})]


_SUB_TIMING = re.compile(r"^\s*(\d+\s*)?$|-->|^WEBVTT|^NOTE\b")


def load_subtitles(path: Path) -> list[Document]:
    """SRT/VTT: drop cue numbers and timings, keep the spoken text as prose."""
    lines = [ln.strip() for ln in read_text(path).split("\n")]
    spoken = [ln for ln in lines if ln and not _SUB_TIMING.search(ln)]
    deduped = [ln for i, ln in enumerate(spoken) if i == 0 or ln != spoken[i - 1]]
    return [Document(page_content="\n".join(deduped), metadata={})]


def load_table_text(path: Path) -> list[Document]:
    """CSV/TSV rendered as a Markdown table, so the splitter keeps rows whole."""
    text = read_text(path)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    rows = [
        r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)
    ]
    if not rows:
        raise IngestError("no text found in the file")
    width = max(len(r) for r in rows)
    if width == 1:  # not really tabular
        return [Document(page_content="\n".join(r[0] for r in rows), metadata={})]
    from ingest.loaders.tables import rows_to_markdown

    return [Document(page_content=rows_to_markdown(rows), metadata={})]


def load_json_text(path: Path) -> list[Document]:
    """JSON: the string values, in order (transcripts and exports are mostly strings)."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
    strings: list[str] = []
    _collect_strings(data, strings)
    return [Document(page_content="\n".join(strings), metadata={})]


def _collect_strings(node, out: list[str]) -> None:
    if isinstance(node, str):
        if node.strip():
            out.append(node.strip())
    elif isinstance(node, dict):
        for value in node.values():
            _collect_strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _collect_strings(value, out)
