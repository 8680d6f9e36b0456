"""Sections: a second kind of unit, one level above passages.

Each entry of a document's outline (level, title, page range, passage range) is stored with its
digest (retrieval/digest.py) and the centre of its passages' vectors in a Chroma collection of its
own, ``<store id>__sections``, beside the chunks: ordinary passage search (dense and keyword) never
sees a section, so answers to fact questions do not change. Written before the document's commit
point and removed with it.
"""

import numpy as np

from retrieval.digest import centre, section_digest

SECTIONS_SUFFIX = "__sections"
_NO_PAGE = -1  # Chroma metadata cannot hold None
_KEYS = ("level", "title", "page_start", "page_end", "chunk_start", "chunk_end")


def open_sections(client, kb_id: str, name: str):
    return client.get_or_create_collection(
        kb_id + SECTIONS_SUFFIX,
        metadata={"kb_name": name, "hnsw:space": "cosine"},
        embedding_function=None,
    )


class SectionIndex:
    """The sections of one knowledge base's documents."""

    def __init__(self, collection):
        self._col = collection

    def put(
        self,
        doc_id: str,
        outline: list[dict],
        texts: list[str],
        vectors: list[list[float]],
    ) -> None:
        """Store ``outline`` (entries as ``OutlineEntry.as_dict()``) of a document whose passages
        are ``texts``, embedded as ``vectors``; an entry that brings its ``digest`` (an import)
        keeps it."""
        self.remove(doc_id)
        if not outline or not texts:
            return
        matrix = np.asarray(vectors, dtype="float32")
        ids, embeddings, documents, metadatas = [], [], [], []
        for n, entry in enumerate(outline):
            first = max(0, min(int(entry["chunk_start"]), len(texts) - 1))
            last = max(first, min(int(entry["chunk_end"]), len(texts) - 1))
            part = matrix[first : last + 1]
            digest = entry.get("digest")
            if digest is None:
                digest = section_digest(str(entry["title"]), texts[first : last + 1], part)
            ids.append(f"{doc_id}#s{n:05d}")
            embeddings.append([float(x) for x in centre(part)] if len(part) else [0.0])
            documents.append(digest)
            metadatas.append(
                {
                    "doc_id": doc_id,
                    "n": n,
                    **{
                        k: _NO_PAGE if entry.get(k) is None else entry[k]
                        for k in _KEYS
                        if k in entry
                    },
                }
            )
        for start in range(0, len(ids), 256):
            self._col.add(
                ids=ids[start : start + 256],
                embeddings=embeddings[start : start + 256],
                documents=documents[start : start + 256],
                metadatas=metadatas[start : start + 256],
            )

    def outline(self, doc_id: str) -> list[dict]:
        """The document's entries in order, each with its ``digest`` (empty: no outline)."""
        found = self._col.get(where={"doc_id": doc_id}, include=["metadatas", "documents"])
        rows = sorted(zip(found["metadatas"], found["documents"]), key=lambda row: int(row[0]["n"]))
        return [
            {
                **{k: None if meta.get(k) == _NO_PAGE else meta.get(k) for k in _KEYS},
                "digest": text or "",
            }
            for meta, text in rows
        ]

    def refresh(self, doc_id: str, index: int, read) -> int:
        """The digest and centre again of each section whose passages hold passage ``index`` (one
        was edited, disabled or enabled). ``read(first, last)``: (texts, vectors) of the section's
        passages that are enabled, in order. Returns how many sections changed."""
        found = self._col.get(
            where={
                "$and": [
                    {"doc_id": doc_id},
                    {"chunk_start": {"$lte": index}},
                    {"chunk_end": {"$gte": index}},
                ]
            },
            include=["metadatas", "embeddings"],
        )
        for sid, meta, kept in zip(found["ids"], found["metadatas"], found["embeddings"]):
            texts, vectors = read(int(meta["chunk_start"]), int(meta["chunk_end"]))
            matrix = np.asarray(vectors, dtype="float32")
            # every passage disabled: nothing to digest, the centre stays (a write without a
            # vector would have Chroma embed the digest with a model of its own)
            digest = section_digest(str(meta.get("title", "")), texts, matrix) if texts else ""
            vector = centre(matrix) if texts else kept
            self._col.update(ids=[sid], documents=[digest], embeddings=[[float(x) for x in vector]])
        return len(found["ids"])

    def has_outline(self, doc_id: str) -> bool:
        return bool(self._col.get(where={"doc_id": doc_id}, limit=1, include=[])["ids"])

    def remove(self, doc_id: str) -> None:
        self._col.delete(where={"doc_id": doc_id})


__all__ = ["SECTIONS_SUFFIX", "SectionIndex", "open_sections"]
