"""The sources behind a citation: each document's original file, a page drawn with the passage
highlighted, and the passage in its surrounding text.

Originals are kept content-addressed (``<data_dir>/files/<kb id>/<doc_id><suffix>``) from the moment
a document is indexed, and deleted with it. Nothing here takes a path from a request: a document is
named by its id, checked against the knowledge base's registry.
"""

import json
import mimetypes
import re
import shutil
import uuid
from dataclasses import replace
from pathlib import Path

from app.operations.errors import InvalidRequest, NotFound
from ingest import SilentProgress
from retrieval import is_disk_full

_DOC_ID = re.compile(r"^[0-9a-f]{64}$")
_PAGED = {".pdf"}


class OriginalFiles:
    """Where each indexed document's original bytes are kept."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, kb_id: str, doc_id: str, source: str) -> Path:
        return self.root / kb_id / f"{doc_id}{Path(source).suffix.lower()}"

    def keep(self, kb_id: str, doc_id: str, source: str, original: Path) -> None:
        target = self.path(kb_id, doc_id, source)
        if target.exists() or not original.is_file():
            return
        self._write(target, lambda partial: shutil.copyfile(original, partial))

    def keep_bytes(self, kb_id: str, doc_id: str, source: str, data: bytes) -> None:
        """Keep an original that arrived as bytes (an imported archive's)."""
        self._write(self.path(kb_id, doc_id, source), lambda partial: partial.write_bytes(data))

    @staticmethod
    def _write(target: Path, fill) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{uuid.uuid4().hex}.partial")
        fill(partial)
        partial.replace(target)  # atomic: a reader never sees half a file

    def remove(self, kb_id: str, doc_id: str, source: str) -> None:
        self.path(kb_id, doc_id, source).unlink(missing_ok=True)

    def drop(self, kb_id: str) -> None:
        shutil.rmtree(self.root / kb_id, ignore_errors=True)


class KeepOriginals(SilentProgress):
    """Ingest progress that keeps each indexed file's original as soon as it is indexed, then passes
    every step on to ``inner``. With ``writes`` (a job's ``JobWrites``), a full disk is one reason
    wherever it surfaced (reading, storing, keeping the original: that document is then removed)."""

    def __init__(
        self,
        originals: OriginalFiles,
        kb_id: str,
        files: list[tuple[Path, str]],
        inner,
        writes=None,
    ):
        self.originals, self.kb_id, self.files, self.inner = originals, kb_id, files, inner
        self.writes, self.index = writes, 0

    def file_started(self, source, index, total):
        self.index = index
        self.inner.file_started(source, index, total)

    def pages_read(self, source, index, done, total, ocr):
        if hasattr(self.inner, "pages_read"):
            self.inner.pages_read(source, index, done, total, ocr)

    def chunks_planned(self, source, count):
        self.inner.chunks_planned(source, count)

    def chunks_done(self, count):
        self.inner.chunks_done(count)

    def file_done(self, outcome):
        if outcome.status in ("indexed", "duplicate") and outcome.doc_id:
            try:
                self.originals.keep(
                    self.kb_id, outcome.doc_id, outcome.source, Path(self.files[self.index][0])
                )
            except OSError as exc:
                if self.writes is None or not is_disk_full(exc):
                    raise
                outcome = self._not_kept(outcome)
        elif outcome.status == "failed" and self.writes and is_disk_full(outcome.error):
            outcome.error = self.writes.out_of_space(None)
        self.inner.file_done(outcome)

    def _not_kept(self, outcome):
        """No room for the original: a new document is removed again and the file fails."""
        reason = self.writes.out_of_space(None)
        if outcome.status == "duplicate":  # indexed earlier, original kept or not: it stays
            return outcome
        self.writes.remove(outcome.doc_id)
        return replace(outcome, status="failed", chunks=0, pages=0, error=reason)


class SourceService:
    def __init__(self, knowledge):
        self.knowledge = knowledge

    def _document(self, kb_name: str, doc_id: str):
        if not _DOC_ID.match(doc_id or ""):
            raise NotFound(f"'{doc_id}' is not a document id")
        kb = self.knowledge.open(kb_name)
        record = kb.document(doc_id)
        if record is None or record.status != "indexed":
            raise NotFound(f"document '{doc_id}' is not in knowledge base '{kb_name}'")
        return kb, record

    def original(self, kb_name: str, doc_id: str) -> tuple[Path, str, str]:
        """(path of the kept original, its file name, its media type)."""
        kb, record = self._document(kb_name, doc_id)
        path = self.knowledge.originals.path(kb.id, doc_id, record.source)
        if not path.is_file():
            raise NotFound(
                f"the original of '{record.source}' was not kept (indexed before originals were"
                " kept)"
            )
        return (
            path,
            record.source,
            mimetypes.guess_type(record.source)[0] or "application/octet-stream",
        )

    def page_preview(
        self, kb_name: str, doc_id: str, page: int, chunk: str | None = None, support: str = ""
    ):
        """``ingest.PagePreview`` of a PDF page, the chunk's text highlighted when ``chunk`` is
        given, and within it ``support`` (the sentence that supports an answer) more strongly."""
        from ingest import IngestError, render_page

        path, source, _ = self.original(kb_name, doc_id)
        if Path(source).suffix.lower() not in _PAGED:
            raise InvalidRequest(f"'{source}' has no pages to draw; ask for its passage instead")
        passage, ocr_lines = "", None
        if chunk:
            found = self.passage(kb_name, doc_id, chunk)
            passage, ocr_lines = found["text"], found.pop("ocr_lines", None)
        try:
            return render_page(path, page, passage, ocr_lines=ocr_lines, support=support)
        except IngestError as exc:
            raise InvalidRequest(exc.reason) from None

    def pages(self, kb_name: str, doc_id: str) -> tuple[str, list[tuple[int | None, str]]]:
        """(the document's file name, its indexed text in order as (page, text) parts): one part per
        page of a paged document, a single part with page None otherwise. The text neighbouring
        chunks share is written once."""
        from retrieval.chunk_ids import chunk_id

        kb, record = self._document(kb_name, doc_id)
        ids = [chunk_id(doc_id, i) for i in range(record.chunks)]
        found = kb.get_chunks(ids)
        parts: list[tuple[int | None, str]] = []
        for chunk in (found[i] for i in ids if i in found):
            page = chunk["metadata"].get("page")
            page = int(page) if page is not None else None
            if parts and parts[-1][0] == page:
                parts[-1] = (page, _append(parts[-1][1], chunk["text"]))
            else:
                parts.append((page, chunk["text"]))
        return record.source, parts

    def outline(self, kb_name: str, doc_id: str) -> dict:
        """{source, doc_id, pages, entries}: each entry's level, title, page range (None for an
        unpaged format), passage range with the id of its first passage (``chunk_id``, what the
        passage route opens) and its digest; no entries when the document has no outline."""
        from retrieval.chunk_ids import chunk_id

        kb, record = self._document(kb_name, doc_id)
        entries = [
            {**entry, "chunk_id": chunk_id(doc_id, int(entry["chunk_start"]))}
            for entry in kb.outline(doc_id)
        ]
        return {
            "source": record.source,
            "doc_id": doc_id,
            "pages": record.pages,
            "entries": entries,
        }

    def passage(self, kb_name: str, doc_id: str, chunk: str) -> dict:
        """The chunk and the text around it: {source, page, doc_id, chunk_id, before, text,
        after}."""
        kb, record = self._document(kb_name, doc_id)
        window = kb.passage(chunk or "") if chunk else None
        if not window or not any(c["id"] == chunk for c in window):
            raise NotFound(f"passage '{chunk}' is not in document '{doc_id}'")
        at = next(i for i, c in enumerate(window) if c["id"] == chunk)
        if window[at]["metadata"].get("doc_id") != doc_id:
            raise NotFound(f"passage '{chunk}' is not in document '{doc_id}'")
        page, text = window[at]["metadata"].get("page"), window[at]["text"]
        if page is not None:  # the surrounding text of a page is that page's, not the one before
            window = [c for c in window if c["metadata"].get("page") == page]
            at = next(i for i, c in enumerate(window) if c["id"] == chunk)
        before = _without_overlap("\n".join(c["text"] for c in window[:at]), text)
        after = _without_overlap("\n".join(c["text"] for c in window[at + 1 :])[::-1], text[::-1])[
            ::-1
        ]
        ocr = window[at]["metadata"].get("ocr_lines")
        return {
            "source": record.source,
            "page": int(page) if page is not None else None,
            "doc_id": doc_id,
            "chunk_id": chunk,
            "before": before,
            "text": text,
            "after": after,
            **({"ocr_lines": json.loads(ocr)} if ocr else {}),
        }


def _without_overlap(before: str, text: str, most: int = 400) -> str:
    """``before`` without the tail it shares with the head of ``text`` (neighbouring chunks
    overlap)."""
    for size in range(min(len(before), len(text), most), 0, -1):
        if before.endswith(text[:size]):
            return before[:-size]
    return before


def _append(before: str, text: str, least: int = 8) -> str:
    """``before`` then ``text``, with the overlap of neighbouring chunks written once (a shared run
    shorter than ``least`` characters is a coincidence, not an overlap)."""
    trimmed = _without_overlap(before, text)
    if len(before) - len(trimmed) >= least:
        return trimmed + text
    return f"{before}\n\n{text}"
