"""Search a knowledge base (no LLM): what every front door's search calls, with the settings'
defaults."""

from typing import cast

from app.operations.errors import InvalidRequest
from app.services import Services


class SearchService:
    def __init__(self, services: Services):
        self.services = services

    def search(
        self,
        kb_name: str,
        query: str,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: list[str] | None = None,
    ):
        """[retrieval.Hit], best first. ``k`` / ``mode`` unset: KB_SEARCH_K / KB_SEARCH_MODE."""
        from retrieval import search

        check_length(query, self.services.settings.max_question_chars, "query")
        return search(
            self.services.store.get(kb_name),
            query,
            self.options(k, mode, doc_ids),
            self.services.reranker,
        )

    def retriever(
        self,
        kb_name: str,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: list[str] | None = None,
    ):
        """The same search as a LangChain retriever (``retrieval.KnowledgeBaseRetriever``)."""
        from retrieval import KnowledgeBaseRetriever

        o = self.options(k, mode, doc_ids)
        return KnowledgeBaseRetriever(
            kb=self.services.store.get(kb_name),
            k=o.k,
            mode=o.mode,
            fetch_k=o.fetch_k,
            doc_ids=list(o.doc_ids) if o.doc_ids else None,
            reranker=self.services.reranker,
        )

    def options(
        self, k: int | None = None, mode: str | None = None, doc_ids: list[str] | None = None
    ):
        from retrieval import SEARCH_MODES, SearchMode, SearchOptions

        s = self.services.settings
        mode = mode or s.search_mode
        if mode not in SEARCH_MODES:
            raise InvalidRequest(
                f"search mode must be one of {', '.join(SEARCH_MODES)}, got {mode!r}"
            )
        k = k or s.search_k
        return SearchOptions(
            k=k,
            mode=cast(SearchMode, mode),
            fetch_k=max(s.fetch_k, k),
            mmr=s.mmr,
            doc_ids=tuple(doc_ids) if doc_ids else None,
        )


def check_length(text: str, limit: int, what: str = "question") -> None:
    """KB_MAX_QUESTION_CHARS, the one limit on questions and queries at every front door."""
    if len(text) > limit:
        raise InvalidRequest(f"the {what} is longer than {limit} characters")
