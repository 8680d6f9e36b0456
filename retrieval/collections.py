"""A knowledge base's Chroma collections: its document registry (``<store id>__docs``, whose
metadata also holds the embedding stamp) and its chunks (the store id, or the collection a
re-embedding filled and swapped in, named in the registry's metadata)."""

DOCS_SUFFIX = "__docs"
VECTORS_KEY = "vectors"  # registry metadata: the chunks' collection, when not the store id
IMPORTING_KEY = "importing"  # registry metadata: when an import began (0: finished, shown)


def set_metadata(collection, values: dict) -> None:
    """Set some metadata keys of a collection, keeping the others (one write)."""
    collection.modify(metadata={**(collection.metadata or {}), **values})


def vectors_collection(kb_id: str, registry_metadata) -> str:
    return str((registry_metadata or {}).get(VECTORS_KEY) or kb_id)


def collection_of(kb_id: str, collection_name: str) -> bool:
    """Is this Chroma collection one of the knowledge base's (chunks, registry, a re-embedding)?"""
    return collection_name == kb_id or collection_name.startswith(kb_id + "__")


def open_collections(client, kb_id: str, name: str):
    """(registry, chunks) of the knowledge base, created when missing."""
    registry = client.get_or_create_collection(
        kb_id + DOCS_SUFFIX, metadata={"kb_name": name}, embedding_function=None
    )
    chunks = client.get_or_create_collection(
        vectors_collection(kb_id, registry.metadata),
        metadata={"kb_name": name, "hnsw:space": "cosine"},
        embedding_function=None,
    )
    return registry, chunks
