"""Knowledge bases: one Chroma collection of chunks + a document registry + keyword rows each."""

import hashlib
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from retrieval.context import index_text
from retrieval.keyword import KeywordIndex
from retrieval.registry import HIDDEN_STATES, DocumentRecord, DocumentRegistry

MAX_KB_NAME = 64
_PREFIX = "kb_"
_DOCS_SUFFIX = "__docs"
_WRITE_BATCH = 16


class KBError(Exception):
    """Base class; ``str()`` is a message for the user."""


class KBNotFound(KBError):
    pass


class KBExists(KBError):
    pass


class InvalidKBName(KBError):
    pass


@dataclass
class KBInfo:
    name: str
    documents: int
    chunks: int


def validate_kb_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidKBName("knowledge-base name must not be empty")
    name = name.strip()
    if len(name) > MAX_KB_NAME:
        raise InvalidKBName(f"knowledge-base name is longer than {MAX_KB_NAME} characters")
    if "/" in name or "\\" in name or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise InvalidKBName("knowledge-base name must not contain path separators or control characters")
    return name


def store_id(name: str) -> str:
    """A Chroma-safe collection id for any printable name (Chinese, one character, spaces...)."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()[:24]
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]
    return f"{_PREFIX}{slug + '-' if slug else ''}{digest}"


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id[:24]}-{index}"


class KnowledgeBase:
    """Operations on one knowledge base. Writes are serialised by a per-KB lock."""

    def __init__(self, name: str, client, embeddings: Embeddings, keyword: KeywordIndex, chunk_context: bool = True):
        from langchain_chroma import Chroma

        self.name = name
        # Index each chunk with its document title and heading path (retrieval/context.py).
        self.chunk_context = chunk_context
        self.id = store_id(name)
        self._client = client
        self.collection = client.get_or_create_collection(
            self.id, metadata={"kb_name": name, "hnsw:space": "cosine"}, embedding_function=None
        )
        self.vectors = Chroma(client=client, collection_name=self.id, embedding_function=embeddings)
        self.registry = DocumentRegistry(
            client.get_or_create_collection(self.id + _DOCS_SUFFIX, metadata={"kb_name": name}, embedding_function=None)
        )
        self.keyword = keyword
        self._write_lock = threading.RLock()
        self.recover()

    # --- consistency ---------------------------------------------------------------------------
    def recover(self) -> None:
        """Roll back documents a killed process left half-written; bring the keyword index in step."""
        with self._write_lock:
            for doc_id in self.registry.ids_with_status(*HIDDEN_STATES):
                self._purge(doc_id)
            indexed = set(self.registry.ids_with_status("indexed"))
            in_keyword = self.keyword.doc_ids(self.id)
            for doc_id in in_keyword - indexed:
                self.keyword.remove(self.id, doc_id)
            for doc_id in indexed - in_keyword:
                found = self.collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
                self.keyword.add(self.id, doc_id, [(cid, self._index_text(text, meta or {})) for cid, text, meta
                                                   in zip(found["ids"], found["documents"], found["metadatas"])])

    def _purge(self, doc_id: str) -> None:
        self.keyword.remove(self.id, doc_id)
        self.collection.delete(where={"doc_id": doc_id})
        self.registry.remove(doc_id)

    # --- documents -----------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        return [r for r in self.registry.all() if r.status not in HIDDEN_STATES]

    def document(self, doc_id: str) -> DocumentRecord | None:
        record = self.registry.get(doc_id)
        return None if record is None or record.status in HIDDEN_STATES else record

    def is_indexed(self, doc_id: str) -> bool:
        record = self.registry.get(doc_id)
        return record is not None and record.status == "indexed"

    def add_document(
        self,
        doc_id: str,
        source: str,
        chunks: list[Document],
        pages: int = 0,
        on_progress: Callable[[int], None] | None = None,
    ) -> DocumentRecord:
        """Embed and store ``chunks``; visible all at once when done. Replaces an older version of ``source``."""
        with self._write_lock:
            self.registry.put(DocumentRecord(doc_id, source, "pending", len(chunks), pages, added_at=time.time()))
            ids = [chunk_id(doc_id, i) for i in range(len(chunks))]
            for start in range(0, len(chunks), _WRITE_BATCH):
                batch = [_clean(c, doc_id) for c in chunks[start : start + _WRITE_BATCH]]
                vectors = self.vectors.embeddings.embed_documents(
                    [self._index_text(c.page_content, c.metadata) for c in batch])
                self.collection.add(ids=ids[start : start + _WRITE_BATCH], embeddings=vectors,
                                    documents=[c.page_content for c in batch], metadatas=[c.metadata for c in batch])
                if on_progress:
                    on_progress(len(batch))
            record = DocumentRecord(doc_id, source, "indexed", len(chunks), pages, added_at=time.time())
            self.registry.put(record)  # the commit point
            self.keyword.add(self.id, doc_id, [(i, self._index_text(c.page_content, c.metadata))
                                               for i, c in zip(ids, chunks)])
            for old in self.registry.by_source(source):
                if old.doc_id != doc_id:
                    self.delete_document(old.doc_id)
            return record

    def _index_text(self, text: str, metadata) -> str:
        return index_text(text, metadata) if self.chunk_context else text

    def record_failure(self, doc_id: str, source: str, reason: str) -> None:
        with self._write_lock:
            existing = self.registry.get(doc_id)
            if existing is None or existing.status == "failed":
                self.registry.put(DocumentRecord(doc_id, source, "failed", error=reason, added_at=time.time()))

    def delete_document(self, doc_id: str) -> bool:
        with self._write_lock:
            record = self.registry.get(doc_id)
            if record is None:
                return False
            record.status = "deleting"
            self.registry.put(record)
            self._purge(doc_id)
            return True

    # --- reading -------------------------------------------------------------------------------
    def hidden_doc_ids(self) -> list[str]:
        return self.registry.ids_with_status(*HIDDEN_STATES)

    def chunk_count(self) -> int:
        return sum(r.chunks for r in self.registry.all() if r.status == "indexed")

    def get_chunks(self, ids: list[str], with_embeddings: bool = False) -> dict[str, dict]:
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        found = self.collection.get(ids=ids, include=include)
        out = {}
        for n, cid in enumerate(found["ids"]):
            item = {"text": found["documents"][n], "metadata": found["metadatas"][n] or {}}
            if with_embeddings:
                item["embedding"] = found["embeddings"][n]
            out[cid] = item
        return out


def _clean(chunk: Document, doc_id: str) -> Document:
    """Chroma metadata values must be str/int/float/bool: drop the rest."""
    meta = {k: v for k, v in chunk.metadata.items() if isinstance(v, (str, int, float, bool))}
    meta["doc_id"] = doc_id
    return Document(page_content=chunk.page_content, metadata=meta)


class KnowledgeBaseStore:
    """All knowledge bases of one Chroma client (embedded or server) and one keyword-index file."""

    def __init__(self, client, embeddings: Embeddings, keyword_index_path: str | Path, chunk_context: bool = True):
        self.client = client
        self.chunk_context = chunk_context
        self.embeddings = embeddings
        self.keyword = KeywordIndex(keyword_index_path)
        self._open: dict[str, KnowledgeBase] = {}
        self._lock = threading.Lock()

    def _names(self) -> dict[str, str]:
        """store id -> display name, for every knowledge base."""
        out = {}
        for col in self.client.list_collections():
            if col.name.startswith(_PREFIX) and not col.name.endswith(_DOCS_SUFFIX):
                out[col.name] = (col.metadata or {}).get("kb_name", col.name)
        return out

    def exists(self, name: str) -> bool:
        return store_id(name) in self._names()

    def list(self) -> list[KBInfo]:
        infos = []
        for name in sorted(self._names().values()):
            docs = self.get(name).documents()
            infos.append(KBInfo(name, sum(d.status == "indexed" for d in docs),
                                sum(d.chunks for d in docs if d.status == "indexed")))
        return infos

    def create(self, name: str) -> KnowledgeBase:
        name = validate_kb_name(name)
        with self._lock:
            if self.exists(name):
                raise KBExists(f"knowledge base '{name}' already exists")
            kb = KnowledgeBase(name, self.client, self.embeddings, self.keyword, self.chunk_context)
            self._open[name] = kb
            return kb

    def get(self, name: str, create: bool = False) -> KnowledgeBase:
        name = validate_kb_name(name)
        with self._lock:
            if name in self._open:
                return self._open[name]
            if not self.exists(name):
                if not create:
                    raise KBNotFound(f"knowledge base '{name}' does not exist")
            kb = KnowledgeBase(name, self.client, self.embeddings, self.keyword, self.chunk_context)
            self._open[name] = kb
            return kb

    def delete(self, name: str) -> None:
        name = validate_kb_name(name)
        with self._lock:
            if not self.exists(name):
                raise KBNotFound(f"knowledge base '{name}' does not exist")
            sid = store_id(name)
            self.keyword.remove(sid)
            self.client.delete_collection(sid + _DOCS_SUFFIX)
            self.client.delete_collection(sid)
            self._open.pop(name, None)
