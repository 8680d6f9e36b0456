"""The document registry of one knowledge base, kept in Chroma next to its chunks.

A document's registry record is its commit point: chunks are written while the record says
``pending`` and become visible only when one single-record write flips it to ``indexed``. Anything
left ``pending``/``deleting`` by a killed process is rolled back on the next open (on a shared
server, once its writer has been silent long enough: a pending record's time is refreshed per
batch).
"""

import json
import time
from dataclasses import asdict, dataclass, field

HIDDEN_STATES = ("pending", "deleting")


@dataclass
class DocumentRecord:
    doc_id: str
    source: str
    status: str  # pending | indexed | failed | deleting
    chunks: int = 0
    pages: int = 0
    error: str | None = None
    added_at: float = 0.0
    # bumped by every passage edit: the keyword index of each app instance re-reads a document
    # whose revision differs from the one it indexed (retrieval/keyword_sync.py)
    revision: int = 0
    # passages edited by hand that went with the older version this record replaced (not stored)
    edits_dropped: int = field(default=0, compare=False)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("edits_dropped")
        return out


class DocumentRegistry:
    def __init__(self, collection):
        self._col = collection

    @property
    def collection(self):
        """The Chroma collection; its metadata carries the embedding stamp."""
        return self._col

    def put(self, record: DocumentRecord) -> None:
        meta = {k: v for k, v in record.as_dict().items() if v is not None and k != "doc_id"}
        meta["added_at"] = record.added_at or time.time()
        # Chroma requires an embedding per record; the registry never searches by vector.
        self._col.upsert(
            ids=[record.doc_id],
            embeddings=[[1.0]],
            metadatas=[meta],
            documents=[json.dumps({"source": record.source}, ensure_ascii=False)],
        )

    def get(self, doc_id: str) -> DocumentRecord | None:
        found = self._col.get(ids=[doc_id], include=["metadatas"])
        if not found["ids"]:
            return None
        return _record(found["ids"][0], found["metadatas"][0])

    def remove(self, doc_id: str) -> None:
        self._col.delete(ids=[doc_id])

    def all(self) -> list[DocumentRecord]:
        found = self._col.get(include=["metadatas"])
        records = [_record(i, m) for i, m in zip(found["ids"], found["metadatas"])]
        return sorted(records, key=lambda r: (r.added_at, r.source))

    def ids_with_status(self, *statuses: str) -> list[str]:
        where = (
            {"status": statuses[0]} if len(statuses) == 1 else {"status": {"$in": list(statuses)}}
        )
        return self._col.get(where=where, include=[])["ids"]

    def indexed_revisions(self) -> dict[str, int]:
        """doc id -> revision of every indexed document."""
        found = self._col.get(where={"status": "indexed"}, include=["metadatas"])
        return {
            i: int((m or {}).get("revision", 0)) for i, m in zip(found["ids"], found["metadatas"])
        }

    def stale_hidden_ids(self, before: float) -> list[str]:
        """Pending or deleting records last written before ``before`` (their writer is gone)."""
        found = self._col.get(where={"status": {"$in": list(HIDDEN_STATES)}}, include=["metadatas"])
        return [
            i
            for i, m in zip(found["ids"], found["metadatas"])
            if float(m.get("added_at", 0.0)) < before
        ]

    def by_source(self, source: str) -> list[DocumentRecord]:
        found = self._col.get(where={"source": source}, include=["metadatas"])
        return [_record(i, m) for i, m in zip(found["ids"], found["metadatas"])]


def _record(doc_id: str, meta: dict) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        source=meta.get("source", ""),
        status=meta.get("status", "pending"),
        chunks=int(meta.get("chunks", 0)),
        pages=int(meta.get("pages", 0)),
        error=meta.get("error"),
        added_at=float(meta.get("added_at", 0.0)),
        revision=int(meta.get("revision", 0)),
    )
