"""Embed every passage of a knowledge base again, with another embedding model, without losing it
on the way.

The passages are read from the collection in use and written with the new model's vectors into a
collection named after that model (``<store id>__e<hash>``), in batches; searches go on using
the old collection meanwhile. Then one metadata write of the registry swaps the new collection in
and stamps the new model, and the old collection is removed. A run killed midway leaves a partly
filled collection: the next run finds it by name and embeds only the passages it lacks.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.embeddings import Embeddings

from retrieval.chunk_ids import chunk_id
from retrieval.collections import (
    DOCS_SUFFIX,
    VECTORS_KEY,
    collection_of,
    set_metadata,
    vectors_collection,
)
from retrieval.context import index_text
from retrieval.embedding_identity import METADATA_KEY, EmbeddingIdentity, read_stamp

BATCH = 32


@dataclass
class ReembedResult:
    kb: str
    passages: int  # passages of indexed documents
    embedded: int  # embedded by this run (the rest were already done by a killed run)
    collection: str  # the collection now in use
    changed: bool  # False: the knowledge base was already embedded with this model


def target_collection(kb_id: str, identity: EmbeddingIdentity) -> str:
    key = f"{identity.provider}|{identity.model}|{identity.dims}".encode()
    return f"{kb_id}__e{hashlib.sha1(key).hexdigest()[:10]}"


def reembed_collections(
    client,
    kb_name: str,
    kb_id: str,
    embeddings: Embeddings,
    identity: EmbeddingIdentity,
    chunk_context: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReembedResult:
    """Re-embed knowledge base ``kb_id``'s passages with ``embeddings`` (whose identity is
    ``identity``) and swap them in. ``on_progress(done, total)`` after each batch."""
    registry = client.get_collection(kb_id + DOCS_SUFFIX, embedding_function=None)
    current = vectors_collection(kb_id, registry.metadata)
    stamp = read_stamp(registry)
    if stamp is not None and stamp.same_model(identity):
        _remove_leftovers(client, kb_id, keep=current)
        return ReembedResult(kb_name, len(_indexed_chunk_ids(registry)), 0, current, False)
    source = client.get_collection(current, embedding_function=None)
    target_name = target_collection(kb_id, identity)
    target = client.get_or_create_collection(
        target_name, metadata={"kb_name": kb_name, "hnsw:space": "cosine"}, embedding_function=None
    )
    ids = _indexed_chunk_ids(registry)
    embedded = 0
    for start in range(0, len(ids), BATCH):
        embedded += _copy_batch(
            source, target, ids[start : start + BATCH], embeddings, chunk_context
        )
        if on_progress:
            on_progress(min(start + BATCH, len(ids)), len(ids))
    # documents indexed by another process meanwhile: copied before the swap
    seen = set(ids)
    late = [i for i in _indexed_chunk_ids(registry) if i not in seen]
    embedded += _copy_batch(source, target, late, embeddings, chunk_context) if late else 0
    # the swap: one write
    set_metadata(registry, {VECTORS_KEY: target_name, METADATA_KEY: identity.to_json()})
    _remove_leftovers(client, kb_id, keep=target_name)
    return ReembedResult(kb_name, len(ids) + len(late), embedded, target_name, changed=True)


def _copy_batch(source, target, ids: list[str], embeddings: Embeddings, chunk_context: bool) -> int:
    """Embed the passages of ``ids`` that ``target`` lacks; how many."""
    have = set(target.get(ids=ids, include=[])["ids"])
    missing = [i for i in ids if i not in have]
    if not missing:
        return 0
    found = source.get(ids=missing, include=["documents", "metadatas"])
    texts, metas = found["documents"], [m or {} for m in found["metadatas"]]
    embed_as = [index_text(t, m) if chunk_context else t for t, m in zip(texts, metas)]
    target.add(
        ids=found["ids"],
        embeddings=embeddings.embed_documents(embed_as),
        documents=texts,
        metadatas=metas,
    )
    return len(found["ids"])


def _indexed_chunk_ids(registry) -> list[str]:
    found = registry.get(where={"status": "indexed"}, include=["metadatas"])
    return [
        chunk_id(doc_id, n)
        for doc_id, meta in zip(found["ids"], found["metadatas"])
        for n in range(int((meta or {}).get("chunks", 0)))
    ]


def _remove_leftovers(client, kb_id: str, keep: str) -> None:
    """The collections of the knowledge base that are neither its registry nor ``keep``: the
    chunks' collection before the swap, or one a killed run left after it."""
    for col in client.list_collections():
        if collection_of(kb_id, col.name) and col.name not in (keep, kb_id + DOCS_SUFFIX):
            client.delete_collection(col.name)
