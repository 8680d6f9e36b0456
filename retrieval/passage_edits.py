"""Correcting a knowledge base by hand: a passage's text edited (embedded again), a passage disabled
or enabled, a passage added by hand, an edit undone.

Both indexes change, or neither: a change writes the document's registry record with a new
revision, then the chunk in Chroma (one record: text, vector and marks at once), then the record
again, then the keyword row. The keyword index of every app instance re-reads a document whose
registry revision differs from what its rows hold (retrieval/keyword_sync.py), so a process killed
anywhere in between leaves both indexes agreeing with what Chroma holds, the old text or the new.

The marks live in the chunk's own metadata (``enabled``, ``edited`` with ``original_text``,
``manual``), so an export, an import and a re-embedding carry them."""

import re
from typing import Any

from retrieval.chunk_ids import chunk_id, chunk_index
from retrieval.registry import DocumentRecord

# the document that holds passages added by hand without naming one
NOTES_DOC_ID = "notes-added-by-hand"
NOTES_SOURCE = "Notes added by hand"
# a passage added by hand: "<doc id's first 24 characters>-m<n>" (no neighbours: not in the
# document's order, so an answer's window never grows into it)
_MANUAL_ID = re.compile(r"-m(\d+)$")


class PassageNotFound(LookupError):
    """No such passage (or its document is not indexed)."""


class PassageRefused(ValueError):
    """A change that cannot be made; the message says why."""


def is_enabled(meta: dict | None) -> bool:
    return (meta or {}).get("enabled", True) is not False


def edit_marks(meta: dict | None) -> int:
    """1 when a person changed this chunk (edited, disabled or added it), else 0."""
    meta = meta or {}
    return int(bool(meta.get("edited")) or not is_enabled(meta) or bool(meta.get("manual")))


def passage_view(cid: str, text: str, meta: dict | None) -> dict:
    """What the doors show of a passage."""
    meta = meta or {}
    page = meta.get("page")
    return {
        "chunk_id": cid,
        "doc_id": meta.get("doc_id", ""),
        "index": chunk_index(cid),
        "page": int(page) if page is not None else None,
        "headings": meta.get("headings") or "",
        "text": text,
        "enabled": is_enabled(meta),
        "edited": bool(meta.get("edited")),
        "manual": bool(meta.get("manual")),
        "original_text": meta.get("original_text") if meta.get("edited") else None,
    }


class PassageEditing:
    """Mixed into ``KnowledgeBase``, whose write lock, registry, collection, keyword rows and
    embeddings it uses."""

    registry: Any
    collection: Any
    sections: Any
    _write_lock: Any
    _keyword_rows: Any
    _embeddings: Any

    # KnowledgeBase methods this mixin calls
    open_for_writing: Any
    _index_text: Any

    # --- reading ---------------------------------------------------------------------------------
    def document_chunks(self, doc_id: str) -> list[tuple[str, str, dict]]:
        """(chunk id, text, metadata) of every chunk of a document, disabled ones included: its
        parsed passages in order, then those added by hand."""
        found = self.collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        rows = [
            (c, t, m or {}) for c, t, m in zip(found["ids"], found["documents"], found["metadatas"])
        ]
        return sorted(rows, key=lambda r: _order(r[0]))

    def edits_in(self, doc_id: str) -> int:
        """How many of a document's passages a person edited, disabled or added."""
        found = self.collection.get(where={"doc_id": doc_id}, include=["metadatas"])
        return sum(edit_marks(m) for m in found["metadatas"])

    def disabled_ids(self) -> list[str]:
        return self.collection.get(where={"enabled": False}, include=[])["ids"]

    # --- changes ---------------------------------------------------------------------------------
    def edit_passage(self, chunk: str, text: str) -> dict:
        """New text for a passage, embedded again; the parsed text is kept for ``undo_edit``."""
        with self._write_lock:
            old_text, meta, record = self._existing(chunk)
            marks = {"edited": True, "original_text": meta.get("original_text") or old_text}
            if meta.get("manual"):  # a note has no parsed text to go back to
                marks = {}
            return self._change(record, chunk, text, meta, marks, embed=True)

    def undo_edit(self, chunk: str) -> dict:
        """The passage's parsed text back (and its vector from it)."""
        with self._write_lock:
            _, meta, record = self._existing(chunk)
            if not meta.get("edited"):
                raise PassageRefused(f"passage '{chunk}' has no edit to undo")
            marks = {"edited": None, "original_text": None}
            return self._change(record, chunk, meta["original_text"], meta, marks, embed=True)

    def set_passage_enabled(self, chunk: str, enabled: bool) -> dict:
        """A disabled passage stays stored but leaves search and answers."""
        with self._write_lock:
            text, meta, record = self._existing(chunk)
            marks = {"enabled": None if enabled else False}
            return self._change(record, chunk, text, meta, marks)

    def add_passage(self, text: str, doc_id: str | None = None, page: int | None = None) -> dict:
        """A passage written by hand (a question-and-answer note, say), in document ``doc_id`` or
        in the knowledge base's notes."""
        with self._write_lock:
            self.open_for_writing()
            record = self._notes() if doc_id is None else self._indexed(doc_id)
            taken = [
                int(m.group(1))
                for cid, _, _ in self.document_chunks(record.doc_id)
                if (m := _MANUAL_ID.search(cid))
            ]
            chunk = f"{record.doc_id[:24]}-m{max(taken, default=-1) + 1}"
            meta: dict = {"doc_id": record.doc_id, "manual": True, "source": record.source}
            if page is not None:
                meta["page"] = int(page)
            record.chunks += 1
            return self._change(record, chunk, text, meta, {}, embed=True)

    def remove_passage(self, chunk: str) -> None:
        """Remove a passage added by hand (a parsed one can only be disabled)."""
        with self._write_lock:
            _, meta, record = self._existing(chunk)
            if not meta.get("manual"):
                raise PassageRefused(
                    f"passage '{chunk}' came from its document: disable it instead of deleting it"
                )
            record.chunks = max(0, record.chunks - 1)
            self._committed(record, lambda: self.collection.delete(ids=[chunk]))
            self._keyword_rows.replace(record.doc_id, chunk, None, meta, record.revision)

    # --- the one write path ----------------------------------------------------------------------
    def _change(
        self,
        record: DocumentRecord,
        chunk: str,
        text: str,
        meta: dict,
        marks: dict,
        embed: bool = False,
    ) -> dict:
        """The chunk written between two revisions of its document's record, then its keyword row
        (see the module)."""
        new_meta = {**meta, **marks}
        kept = {k: v for k, v in new_meta.items() if v is not None}
        vector = (
            self._embeddings.embed_documents([self._index_text(text, kept)])[0] if embed else None
        )
        if vector is None:
            vector = self._stored_vector(chunk)
        self._committed(
            record,
            lambda: self.collection.upsert(
                ids=[chunk], documents=[text], metadatas=[new_meta], embeddings=[vector]
            ),
        )
        self._keyword_rows.replace(record.doc_id, chunk, text, kept, record.revision)
        index = chunk_index(chunk)
        if index is not None:  # a parsed passage: the digests of its sections follow it
            self.sections.refresh(
                record.doc_id, index, lambda a, b: self._enabled_range(record.doc_id, a, b)
            )
        return passage_view(chunk, text, kept)

    def _enabled_range(self, doc_id: str, first: int, last: int) -> tuple[list[str], list]:
        """(texts, vectors) of a document's enabled passages ``first`` to ``last``, in order."""
        ids = [chunk_id(doc_id, i) for i in range(first, last + 1)]
        found = self.collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        rows = sorted(
            (
                (chunk_index(c) or 0, t, v)
                for c, t, m, v in zip(
                    found["ids"], found["documents"], found["metadatas"], found["embeddings"]
                )
                if is_enabled(m)
            ),
            key=lambda row: row[0],
        )
        return [t for _, t, _ in rows], [list(v) for _, _, v in rows]

    def _committed(self, record: DocumentRecord, write) -> None:
        """``write()`` (the chunk in Chroma) between two revisions of the document's record: from
        the second on, every instance's keyword index reads the chunk again."""
        record.revision += 1
        self.registry.put(record)
        write()
        record.revision += 1
        self.registry.put(record)

    def _existing(self, chunk: str) -> tuple[str, dict, DocumentRecord]:
        """The chunk's text, metadata and its (indexed) document's record."""
        self.open_for_writing()
        found = self.collection.get(ids=[chunk], include=["documents", "metadatas"])
        if not found["ids"]:
            raise PassageNotFound(f"no passage '{chunk}' in knowledge base")
        meta = found["metadatas"][0] or {}
        return found["documents"][0], meta, self._indexed(meta.get("doc_id", ""))

    def _indexed(self, doc_id: str) -> DocumentRecord:
        record = self.registry.get(doc_id)
        if record is None or record.status != "indexed":
            raise PassageNotFound(f"no indexed document '{doc_id}'")
        return record

    def _notes(self) -> DocumentRecord:
        record = self.registry.get(NOTES_DOC_ID)
        if record is None or record.status != "indexed":
            record = DocumentRecord(NOTES_DOC_ID, NOTES_SOURCE, "indexed", 0, 0)
            self.registry.put(record)
        return record

    def _stored_vector(self, chunk: str) -> list[float]:
        found = self.collection.get(ids=[chunk], include=["embeddings"])
        return [float(x) for x in found["embeddings"][0]]


def _order(cid: str) -> tuple[int, int]:
    """Parsed passages in document order, then those added by hand in the order they were added."""
    index = chunk_index(cid)
    if index is not None:
        return (0, index)
    manual = _MANUAL_ID.search(cid)
    return (1, int(manual.group(1)) if manual else 0)
