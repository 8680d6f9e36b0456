"""Wiring: turns Settings into the store, the parser, the retriever and the chat model.

The one place that knows every package; routers, the UI and the CLI are thin over it.
"""

import threading
from functools import cached_property
from pathlib import Path

from app.settings import Settings


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()

    # --- storage -------------------------------------------------------------------------------
    @cached_property
    def embeddings(self):
        from retrieval import TimedEmbeddings, build_embeddings

        s = self.settings
        key = s.embedding_api_key.get_secret_value() if s.embedding_api_key else None
        return TimedEmbeddings(build_embeddings(s.embedding, s.embedding_model, key, s.embedding_base_url))

    @cached_property
    def store(self):
        from retrieval import KnowledgeBaseStore, open_chroma_client

        data = Path(self.settings.data_dir)
        client = open_chroma_client(path=data / "chroma", url=self.settings.chroma_url)
        index_name = "keyword.sqlite" if not self.settings.chroma_url else f"keyword-{_safe(self.settings.chroma_url)}.sqlite"
        return KnowledgeBaseStore(client, self.embeddings, data / index_name)

    @cached_property
    def parser(self):
        from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ParseLimits

        s = self.settings
        limits = LoadLimits(max_file_bytes=s.max_file_mb * 2**20, ocr=s.ocr)
        return IsolatedParser(limits, ChineseTextSplitter(s.chunk_size, s.chunk_overlap),
                              ParseLimits(timeout_s=s.parse_timeout_s, memory_mb=s.parse_memory_mb))

    @property
    def uploads_dir(self) -> Path:
        return Path(self.settings.data_dir) / "uploads"

    # --- retrieval -----------------------------------------------------------------------------
    @cached_property
    def reranker(self):
        from retrieval import APIReranker, CrossEncoderReranker

        s = self.settings
        if s.reranker == "cross_encoder":
            if not s.reranker_model:
                raise ValueError("KB_RERANKER_MODEL must be a local path to a cross-encoder")
            return CrossEncoderReranker(s.reranker_model)
        if s.reranker == "api":
            key = s.reranker_api_key.get_secret_value() if s.reranker_api_key else None
            return APIReranker(s.reranker_base_url or "", s.reranker_model or "", key)
        return None

    def search(self, kb_name: str, query: str, k: int | None = None, mode: str | None = None,
               doc_ids: list[str] | None = None):
        from retrieval import SearchOptions, search

        s = self.settings
        kb = self.store.get(kb_name)
        options = SearchOptions(k=k or s.search_k, mode=mode or s.search_mode, fetch_k=max(s.fetch_k, k or 0),
                                mmr=s.mmr, doc_ids=tuple(doc_ids) if doc_ids else None)
        return search(kb, query, options, self.reranker)

    # --- generation ----------------------------------------------------------------------------
    def llm_config(self, provider: str | None = None, model: str | None = None, temperature: float | None = None):
        from llm_backends import LLMConfig

        s = self.settings
        same_provider = provider in (None, s.llm_provider)
        return LLMConfig(
            provider=provider or s.llm_provider,
            model=model or (s.llm_model if same_provider else None),
            api_key=(s.llm_api_key.get_secret_value() if s.llm_api_key else None) if same_provider else None,
            base_url=s.llm_base_url if same_provider else None,
            temperature=s.llm_temperature if temperature is None else temperature,
            # The 270M local model drifts into repetition on long outputs; its answers are short anyway.
            max_tokens=s.llm_max_tokens or (160 if (provider or s.llm_provider) == "local" else 512),
            timeout_s=s.llm_timeout_s,
            max_retries=s.llm_max_retries,
            model_path=s.llm_model_path,
            models_dir=str(Path(s.data_dir) / "models"),
            n_threads=s.llm_threads,
        )

    def chat_model(self, provider: str | None = None, model: str | None = None, temperature: float | None = None):
        """Chat models are cached per configuration: the local model loads its weights once."""
        from llm_backends import build_chat_model

        config = self.llm_config(provider, model, temperature)
        with self._lock:
            cache = self.__dict__.setdefault("_chat_models", {})
            if config not in cache:
                cache[config] = build_chat_model(config)
            return cache[config], config


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:60]
