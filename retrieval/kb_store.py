"""All knowledge bases of one Chroma client (embedded or server) and one keyword-index file."""

import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from retrieval.kb_names import PREFIX, KBExists, KBInfo, KBNotFound, store_id, validate_kb_name
from retrieval.keyword import KeywordIndex, Tokenizer
from retrieval.registry import DocumentRegistry
from retrieval.store import DOCS_SUFFIX, KnowledgeBase


class KnowledgeBaseStore:
    """All knowledge bases of one Chroma client (embedded or server) and one keyword-index file.

    ``get`` opens a knowledge base to read; ``open_for_writing`` also rolls back what a killed
    writer
    left half-written (once per process). Listing opens nothing and writes nothing."""

    def __init__(
        self,
        client,
        embeddings: Embeddings,
        keyword_index_path: str | Path,
        chunk_context: bool = True,
        stale_after_s: float = 0.0,
        numbered_references: bool = True,
        english_stems: str = "snowball",
    ):
        self.client = client
        self.stale_after_s = stale_after_s
        self.chunk_context = chunk_context
        self.embeddings = embeddings
        self.keyword = KeywordIndex(
            keyword_index_path, Tokenizer(numbered_references, english_stems)
        )
        self._open: dict[str, KnowledgeBase] = {}
        self._lock = threading.Lock()

    def _names(self) -> dict[str, str]:
        """store id -> display name, for every knowledge base."""
        out = {}
        for col in self.client.list_collections():
            if col.name.startswith(PREFIX) and not col.name.endswith(DOCS_SUFFIX):
                out[col.name] = (col.metadata or {}).get("kb_name", col.name)
        return out

    def ping(self) -> None:
        """Raises when the Chroma client (embedded or server) cannot be reached."""
        self.client.heartbeat()

    def exists(self, name: str) -> bool:
        return store_id(name) in self._names()

    def list(self) -> list[KBInfo]:
        """Every knowledge base with its indexed documents and chunks, read from the registries
        alone."""
        infos = []
        for sid, name in sorted(self._names().items(), key=lambda item: item[1]):
            registry = DocumentRegistry(
                self.client.get_collection(sid + DOCS_SUFFIX, embedding_function=None)
            )
            indexed = [r for r in registry.all() if r.status == "indexed"]
            infos.append(KBInfo(name, len(indexed), sum(r.chunks for r in indexed)))
        return infos

    def create(self, name: str) -> KnowledgeBase:
        name = validate_kb_name(name)
        with self._lock:
            if self.exists(name):
                raise KBExists(f"knowledge base '{name}' already exists")
            return self._opened(name)

    def get(self, name: str, create: bool = False) -> KnowledgeBase:
        """The knowledge base, to read (``KBNotFound`` unless it exists or ``create``)."""
        name = validate_kb_name(name)
        with self._lock:
            if name in self._open:
                return self._open[name]
            if not create and not self.exists(name):
                raise KBNotFound(f"knowledge base '{name}' does not exist")
            return self._opened(name)

    def open_for_writing(self, name: str, create: bool = False) -> KnowledgeBase:
        """The knowledge base, recovered from a killed writer's leftovers, ready for writes."""
        return self.get(name, create).open_for_writing()

    def _opened(self, name: str) -> KnowledgeBase:
        kb = KnowledgeBase(
            name,
            self.client,
            self.embeddings,
            self.keyword,
            self.chunk_context,
            stale_after_s=self.stale_after_s,
        )
        self._open[name] = kb
        return kb

    def delete(self, name: str) -> None:
        name = validate_kb_name(name)
        with self._lock:
            if not self.exists(name):
                raise KBNotFound(f"knowledge base '{name}' does not exist")
            sid = store_id(name)
            self.keyword.remove(sid)
            self.client.delete_collection(sid + DOCS_SUFFIX)
            self.client.delete_collection(sid)
            self._open.pop(name, None)
