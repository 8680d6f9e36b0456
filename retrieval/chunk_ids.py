"""Chunk ids, written and read in one place: ``"<first 24 characters of the doc id>-<index>"``, the
index counting the document's chunks in order (so a chunk's neighbours are its index ± 1)."""


def chunk_id(doc_id: str, index: int) -> str:
    return f"{doc_id[:24]}-{index}"


def chunk_index(cid: str) -> int | None:
    """The chunk's place in its document (None for an id not made by ``chunk_id``)."""
    index = cid.rpartition("-")[2]
    return int(index) if index.isdigit() else None


def neighbour_id(cid: str, step: int) -> str | None:
    """The id ``step`` chunks after (negative: before) ``cid`` in its document; None before the
    first."""
    index = chunk_index(cid)
    if index is None or index + step < 0:
        return None
    return f"{cid.rpartition('-')[0]}-{index + step}"
