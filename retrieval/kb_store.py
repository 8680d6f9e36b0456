"""All knowledge bases of one Chroma client (embedded or server) and one keyword-index file."""

import threading
import time
from pathlib import Path

from langchain_core.embeddings import Embeddings

from retrieval.collections import DOCS_SUFFIX, IMPORTING_KEY, collection_of, set_metadata
from retrieval.context import index_text
from retrieval.embedding_identity import (
    EmbeddingIdentity,
    EmbeddingMismatch,
    identity_of,
    read_stamp,
    stored_vectors_match,
    write_stamp,
)
from retrieval.embeddings import embedding_name, embedding_provider
from retrieval.kb_names import PREFIX, KBExists, KBInfo, KBNotFound, store_id, validate_kb_name
from retrieval.keyword import KeywordIndex, Tokenizer
from retrieval.reembed import ReembedResult, reembed_collections
from retrieval.registry import DocumentRegistry
from retrieval.store import KnowledgeBase


class KnowledgeBaseStore:
    """All knowledge bases of one Chroma client (embedded or server) and one keyword-index file.

    ``get`` opens a knowledge base to read; ``open_for_writing`` also rolls back what a killed
    writer left half-written (once per process). Listing opens nothing and writes nothing.
    Opening a knowledge base whose vectors another embedding model made raises
    ``EmbeddingMismatch`` (retrieval/embedding_identity.py)."""

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
        self._identity: EmbeddingIdentity | None = None

    def _names(self) -> dict[str, str]:
        """store id -> display name, for every knowledge base (one registry collection each; its
        chunks may be in a collection a re-embedding swapped in)."""
        out = {}
        for col in self.client.list_collections():
            hidden = (col.metadata or {}).get(IMPORTING_KEY)  # an import not finished
            if col.name.startswith(PREFIX) and col.name.endswith(DOCS_SUFFIX) and not hidden:
                sid = col.name[: -len(DOCS_SUFFIX)]
                out[sid] = (col.metadata or {}).get("kb_name", sid)
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
            stamp = read_stamp(registry.collection)
            infos.append(
                KBInfo(
                    name,
                    len(indexed),
                    sum(r.chunks for r in indexed),
                    None if stamp is None else stamp.describe(),
                )
            )
        return infos

    def create(self, name: str) -> KnowledgeBase:
        name = validate_kb_name(name)
        with self._lock:
            if self.exists(name):
                raise KBExists(f"knowledge base '{name}' already exists")
            return self._opened(name, created=True)

    def get(self, name: str, create: bool = False) -> KnowledgeBase:
        """The knowledge base, to read (``KBNotFound`` unless it exists or ``create``)."""
        name = validate_kb_name(name)
        with self._lock:
            if name in self._open:
                return self._open[name]
            exists = self.exists(name)
            if not create and not exists:
                raise KBNotFound(f"knowledge base '{name}' does not exist")
            return self._opened(name, created=not exists)

    def open_for_writing(self, name: str, create: bool = False) -> KnowledgeBase:
        """The knowledge base, recovered from a killed writer's leftovers, ready for writes."""
        return self.get(name, create).open_for_writing()

    def _opened(self, name: str, created: bool, hidden: bool = False) -> KnowledgeBase:
        if created:  # what a killed import left under this name
            self._discard_collections(store_id(name))
        kb = KnowledgeBase(
            name,
            self.client,
            self.embeddings,
            self.keyword,
            self.chunk_context,
            stale_after_s=self.stale_after_s,
        )
        if hidden:
            set_metadata(kb.registry.collection, {IMPORTING_KEY: time.time()})
        self._check_embedding(kb, created)
        if not hidden:
            self._open[name] = kb
        return kb

    # --- imports: written hidden, shown by one registry write --------------------------------
    def begin_import(self, name: str) -> KnowledgeBase:
        """A new, empty knowledge base that stays hidden (not listed, not found) until
        ``finish_import``; a kill before that leaves nothing anyone sees."""
        name = validate_kb_name(name)
        with self._lock:
            if self.exists(name):
                raise KBExists(f"knowledge base '{name}' already exists")
            # what a killed import of this name left (hidden, never listed) starts over
            self._discard_collections(store_id(name))
            self._open.pop(name, None)
            return self._opened(name, created=True, hidden=True)

    def finish_import(self, name: str) -> None:
        registry = self.client.get_collection(store_id(name) + DOCS_SUFFIX, embedding_function=None)
        set_metadata(registry, {IMPORTING_KEY: 0.0})

    def abandon_import(self, name: str) -> None:
        with self._lock:
            self._discard_collections(store_id(name))

    def _discard_collections(self, sid: str) -> None:
        """Every collection and keyword row of store id ``sid``; the registry last (see delete)."""
        self.keyword.remove(sid)
        names = [c.name for c in self.client.list_collections() if collection_of(sid, c.name)]
        for col in sorted(names, key=lambda n: n == sid + DOCS_SUFFIX):
            self.client.delete_collection(col)

    def embedding_identity(self) -> EmbeddingIdentity:
        """The configured embedding model's identity (one embedding of the probe text, once)."""
        if self._identity is None:
            self._identity = identity_of(
                self.embeddings,
                embedding_provider(self.embeddings),
                embedding_name(self.embeddings),
            )
        return self._identity

    def _check_embedding(self, kb: KnowledgeBase, created: bool) -> None:
        """Refuse a knowledge base whose vectors another model made; stamp one that has none."""
        mine = self.embedding_identity()
        stamp = read_stamp(kb.registry.collection)
        if stamp is not None:
            if not stamp.same_model(mine):
                raise EmbeddingMismatch(kb.name, stamp.describe(), mine.describe())
            return
        # made before stamps existed (or just now): its own vectors say which model made them
        if not created and not stored_vectors_match(vector_samples(kb), self.embeddings):
            raise EmbeddingMismatch(
                kb.name,
                "another embedding model (it carries no stamp, and its stored vectors are not "
                "this model's)",
                mine.describe(),
            )
        write_stamp(kb.registry.collection, mine)

    def reembed(self, name: str, on_progress=None) -> ReembedResult:
        """Embed every passage of ``name`` again with the configured model and swap them in
        (retrieval/reembed.py); resumes what a killed run left. ``on_progress(done, total)``."""
        name = validate_kb_name(name)
        with self._lock:
            if not self.exists(name):
                raise KBNotFound(f"knowledge base '{name}' does not exist")
        result = reembed_collections(
            self.client,
            name,
            store_id(name),
            self.embeddings,
            self.embedding_identity(),
            self.chunk_context,
            on_progress,
        )
        with self._lock:
            self._open.pop(name, None)  # the next open reads the swapped-in collection
        return result

    def delete(self, name: str) -> None:
        name = validate_kb_name(name)
        with self._lock:
            if not self.exists(name):
                raise KBNotFound(f"knowledge base '{name}' does not exist")
            # chunks (and any re-embedding) first, the registry last: a delete cut short leaves a
            # knowledge base that is still listed and can be deleted again
            self._discard_collections(store_id(name))
            self._open.pop(name, None)


def vector_samples(kb: KnowledgeBase, n: int = 3) -> list[tuple[list[str], list[float]]]:
    """A few stored chunks: (the texts each may have been embedded as, with or without its title
    and heading path; its stored vector)."""
    found = kb.collection.get(limit=n, include=["embeddings", "documents", "metadatas"])
    return [
        ([index_text(text, meta or {}), text], [float(x) for x in vector])
        for text, meta, vector in zip(found["documents"], found["metadatas"], found["embeddings"])
    ]
