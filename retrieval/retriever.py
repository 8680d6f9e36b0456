"""The hybrid search as a LangChain retriever: drop a knowledge base into any LangChain chain."""

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from retrieval.modes import SearchMode
from retrieval.options import SearchOptions
from retrieval.search import search
from retrieval.store import KnowledgeBase


class KnowledgeBaseRetriever(BaseRetriever):
    """``KnowledgeBaseRetriever(kb=store.get("guide"), k=5).invoke("question")`` -> Documents whose
    metadata carry source, page, doc_id, chunk_id and the fused score. ``invoke(query, k=3)``
    overrides k."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: KnowledgeBase
    k: int = Field(5, ge=1)
    mode: SearchMode = "hybrid"
    doc_ids: list[str] | None = None  # only these documents
    fetch_k: int = Field(30, ge=1)
    reranker: Any = None  # a retrieval.search.Reranker (a Protocol: pydantic cannot check it)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k") or self.k)
        options = SearchOptions(
            k=k,
            mode=self.mode,
            fetch_k=max(self.fetch_k, k),
            doc_ids=tuple(self.doc_ids) if self.doc_ids else None,
        )
        return [
            Document(
                page_content=hit.text,
                id=hit.chunk_id,
                metadata={
                    "source": hit.source,
                    "page": hit.page,
                    "doc_id": hit.doc_id,
                    "chunk_id": hit.chunk_id,
                    "score": hit.score,
                    "headings": hit.headings,
                },
            )
            for hit in search(self.kb, query, options, self.reranker)
        ]
