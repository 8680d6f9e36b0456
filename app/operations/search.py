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

    def explain(
        self,
        kb_name: str,
        query: str,
        k: int | None = None,
        mode: str | None = None,
        doc_ids: list[str] | None = None,
    ) -> dict:
        """The retrieval test: the ranked hits (each with the signals that ranked it in
        ``extra``), the options searched with, and what the answer step would decide before any
        model runs and why. No model is called."""
        import prompts
        from answering import Evidence, classify, explain_decision

        options = self.options(k, mode, doc_ids)
        hits = self.search(kb_name, query, options.k, options.mode, doc_ids)
        s = self.services.settings
        evidence = Evidence.of_hits(hits, prompts.detect_language(query))
        if s.check_names and hits:
            known = self.services.store.get(kb_name).mentions
            evidence.missing_names = self.services.name_check.missing(
                query, [h.text for h in hits], known=known
            )
        routed = classify(query) if s.structure_questions else None
        return {
            "hits": hits,
            "options": options.as_dict(),
            "decision": explain_decision(evidence, s.refusal_config()),
            "structure_question": routed.as_dict() if routed else None,
        }

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


SIGNALS = (
    "dense_score",
    "dense_rank",
    "focused_dense_rank",
    "keyword_score",
    "keyword_rank",
    "fused_score",
    "reference_boost",
    "rank_before_page_rescore",
    "page_rescore",
    "rerank_score",
)


def hit_signals(hit) -> dict:
    """A hit as the retrieval test shows it: its fields, and ``signals``, each signal that ranked
    it under its own name (see SIGNALS; one that took no part is absent)."""
    out = {
        k: v for k, v in hit.as_dict().items() if k not in ("extra", "dense_score", "keyword_score")
    }
    known = {"dense_score": hit.dense_score, "keyword_score": hit.keyword_score, **hit.extra}
    out["signals"] = {
        name: round(float(known[name]), 4) for name in SIGNALS if known.get(name) is not None
    }
    return out


def check_length(text: str, limit: int, what: str = "question") -> None:
    """KB_MAX_QUESTION_CHARS, the one limit on questions and queries at every front door."""
    if len(text) > limit:
        raise InvalidRequest(f"the {what} is longer than {limit} characters")
