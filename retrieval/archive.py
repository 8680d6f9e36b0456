"""One knowledge base as one file: a zip holding its documents, their passages with metadata, their
vectors with the embedding model's identity, the originals, a format version and a SHA-256 of
every member (in ``manifest.json``, written last).

Reading an archive checks all of it before anything is written: a foreign, truncated or altered
file is refused with an ``ArchiveError`` that says which.
"""

import hashlib
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from retrieval.embedding_identity import EmbeddingIdentity
from retrieval.kb_names import KBError, KBExists, validate_kb_name
from retrieval.registry import DocumentRecord

FORMAT = "kb-assistant knowledge base"
VERSION = 1
MANIFEST = "manifest.json"


class ArchiveError(KBError):
    """The file is not a knowledge-base archive this version can read, or it is damaged."""


@dataclass
class ArchivedDocument:
    record: DocumentRecord
    original: str | None  # the member holding the original file, if kept
    outline: list[dict] = field(default_factory=list)  # entries with their digests


@dataclass
class ExportSummary:
    kb: str
    documents: int
    passages: int
    bytes: int


def write_archive(
    kb,
    identity: EmbeddingIdentity,
    out: Path,
    original_of: Callable[[DocumentRecord], Path | None],
    on_progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write knowledge base ``kb`` to ``out`` (through a partial file, renamed when complete)."""
    records = [r for r in kb.documents() if r.status == "indexed"]
    partial = out.with_name(f".{out.name}.partial")
    sums: dict[str, str] = {}
    passages = 0
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        put = _member_writer(zf, sums)
        docs = []
        for n, record in enumerate(records, 1):
            # every passage, disabled and hand-added ones too, with its marks and its own id
            ids = [cid for cid, _, _ in kb.document_chunks(record.doc_id)]
            chunks = kb.get_chunks(ids, with_embeddings=True)
            rows = [{"id": i, **chunks[i]} for i in ids if i in chunks]
            lines = [
                json.dumps(
                    {"id": r["id"], "text": r["text"], "metadata": r["metadata"]},
                    ensure_ascii=False,
                )
                for r in rows
            ]
            put(f"passages/{record.doc_id}.jsonl", "\n".join(lines).encode())
            vectors = np.asarray([r["embedding"] for r in rows], dtype="<f4")
            put(f"vectors/{record.doc_id}.f32", vectors.tobytes())
            original = original_of(record)
            member = None
            if original is not None and original.is_file():
                member = f"originals/{record.doc_id}{original.suffix}"
                put(member, original.read_bytes())
            # the outline and its digests ride in the manifest (absent in older archives)
            outline = kb.outline(record.doc_id)
            docs.append(
                {**record.as_dict(), "chunks": len(rows), "original": member, "outline": outline}
            )
            passages += len(rows)
            if on_progress:
                on_progress(n, len(records))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "kb": kb.name,
            "created_at": time.time(),
            "embedding": json.loads(identity.to_json()),
            "documents": docs,
            "sha256": sums,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    partial.replace(out)
    return ExportSummary(kb.name, len(records), passages, out.stat().st_size)


def _member_writer(zf: zipfile.ZipFile, sums: dict[str, str]):
    def put(name: str, data: bytes) -> None:
        sums[name] = hashlib.sha256(data).hexdigest()
        zf.writestr(name, data)

    return put


class Archive:
    """A verified archive, open for reading (use as a context manager)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArchiveError(
                f"{self.path.name} is not a knowledge-base archive, or it is truncated ({exc})"
            ) from None
        try:
            self.manifest = self._read_manifest()
            self._verify()
        except BaseException:
            self._zip.close()
            raise
        self.name: str = self.manifest["kb"]
        self.identity = EmbeddingIdentity.from_json(json.dumps(self.manifest["embedding"]))
        self.documents = [
            ArchivedDocument(_record(d), d.get("original"), _outline(d))
            for d in self.manifest["documents"]
        ]

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()

    def _read_manifest(self) -> dict:
        try:
            manifest = json.loads(self._zip.read(MANIFEST))
        except KeyError:
            raise ArchiveError(
                f"{self.path.name} is not a knowledge-base archive (it has no {MANIFEST})"
            ) from None
        except (ValueError, zipfile.BadZipFile) as exc:
            raise ArchiveError(f"{self.path.name}: its {MANIFEST} is damaged ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ArchiveError(f"{self.path.name} is not a kb-assistant knowledge-base archive")
        if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
            raise ArchiveError(
                f"{self.path.name} was written by a newer kb-assistant (archive format "
                f"{manifest.get('version')}; this one reads up to {VERSION})"
            )
        for key in ("kb", "embedding", "documents", "sha256"):
            if key not in manifest:
                raise ArchiveError(f"{self.path.name}: its {MANIFEST} lacks '{key}'")
        return manifest

    def _verify(self) -> None:
        present = set(self._zip.namelist())
        for member, expected in self.manifest["sha256"].items():
            if member not in present:
                raise ArchiveError(f"{self.path.name} is incomplete: {member} is missing")
            digest = hashlib.sha256()
            try:
                with self._zip.open(member) as stream:
                    for block in iter(lambda: stream.read(1 << 20), b""):
                        digest.update(block)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise ArchiveError(f"{self.path.name} is damaged at {member} ({exc})") from None
            if digest.hexdigest() != expected:
                raise ArchiveError(
                    f"{self.path.name} is damaged: {member} does not match its checksum"
                )

    def passages(self, doc_id: str) -> list[Document]:
        text = self._zip.read(f"passages/{doc_id}.jsonl").decode()
        rows = [json.loads(line) for line in text.splitlines() if line]
        # an archive written before passages could be edited carries no ids
        return [
            Document(page_content=r["text"], metadata=r["metadata"], id=r.get("id")) for r in rows
        ]

    def vectors(self, doc_id: str) -> list[list[float]]:
        raw = np.frombuffer(self._zip.read(f"vectors/{doc_id}.f32"), dtype="<f4")
        return raw.reshape(-1, self.identity.dims).astype(float).tolist() if raw.size else []

    def original(self, document: ArchivedDocument) -> bytes | None:
        return None if document.original is None else self._zip.read(document.original)


def _outline(d: dict) -> list[dict]:
    outline = d.get("outline") or []
    keys = {"level", "title", "chunk_start", "chunk_end"}
    if not isinstance(outline, list) or not all(
        isinstance(e, dict) and keys <= e.keys() for e in outline
    ):
        raise ArchiveError(f"the archive's outline of {d.get('source')} is malformed")
    return outline


def _record(d: dict) -> DocumentRecord:
    try:
        return DocumentRecord(
            doc_id=str(d["doc_id"]),
            source=str(d["source"]),
            status="indexed",
            chunks=int(d["chunks"]),
            pages=int(d.get("pages", 0)),
            added_at=float(d.get("added_at", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(f"the archive's document list is damaged ({exc})") from None


@dataclass
class ImportSummary:
    kb: str
    documents: int
    passages: int
    embedded_again: bool  # the archive's model is not the configured one: its vectors were not used


def import_archive(
    store,
    archive: Archive,
    name: str | None = None,
    replace: bool = False,
    keep_original: Callable[[str, DocumentRecord, bytes], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Restore ``archive`` into ``store`` as ``name`` (default: its own name). Written hidden and
    shown at once when complete; a failure removes all of it. ``replace``: an existing knowledge
    base of that name is deleted first (the archive has been verified by then)."""
    name = validate_kb_name(name or archive.name)
    if store.exists(name):
        if not replace:
            raise KBExists(
                f"knowledge base '{name}' already exists: import under another name (--as NAME) "
                "or replace it (--replace)"
            )
        store.delete(name)
    same_model = archive.identity.same_model(store.embedding_identity())
    kb = store.begin_import(name)
    passages = 0
    try:
        for n, doc in enumerate(archive.documents, 1):
            record = doc.record
            chunks = archive.passages(record.doc_id)
            vectors = archive.vectors(record.doc_id) if same_model else None
            if len(chunks) != record.chunks or (
                vectors is not None and len(vectors) != len(chunks)
            ):
                raise ArchiveError(f"the archive's passages of {record.source} are incomplete")
            kb.add_document(
                record.doc_id,
                record.source,
                chunks,
                record.pages,
                vectors=vectors,
                outline=doc.outline,
                ids=[c.id for c in chunks] if all(c.id for c in chunks) else None,
            )
            original = archive.original(doc)
            if keep_original and original is not None:
                keep_original(kb.id, record, original)
            passages += len(chunks)
            if on_progress:
                on_progress(n, len(archive.documents))
        store.finish_import(name)
    except BaseException:
        store.abandon_import(name)
        raise
    return ImportSummary(name, len(archive.documents), passages, embedded_again=not same_model)
