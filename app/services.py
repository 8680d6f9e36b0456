"""Wiring: turns Settings into the store, the parser, the retriever and the chat model.

The one place that knows every package; routers, the UI and the CLI are thin over it.
"""

import threading
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from app.settings import Settings


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._engines: dict = {}  # local model file -> LocalEngine
        self._remote_models: dict = {}  # LLMConfig -> chat model

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

    @cached_property
    def name_check(self):
        from retrieval import NameCheck

        return NameCheck()

    def search(self, kb_name: str, query: str, k: int | None = None, mode: str | None = None,
               doc_ids: list[str] | None = None):
        from retrieval import SearchOptions, search

        s = self.settings
        kb = self.store.get(kb_name)
        options = SearchOptions(k=k or s.search_k, mode=mode or s.search_mode, fetch_k=max(s.fetch_k, k or 0),
                                mmr=s.mmr, doc_ids=tuple(doc_ids) if doc_ids else None)
        return search(kb, query, options, self.reranker)

    # --- generation ----------------------------------------------------------------------------
    def llm_config(self, provider: str | None = None, model: str | None = None, temperature: float | None = None,
                   max_tokens: int | None = None):
        from llm_backends import LLMConfig, model_profile

        s = self.settings
        provider = provider or s.llm_provider
        same_provider = provider == s.llm_provider
        own_gguf = s.llm_model_path if provider == "local" and not model else None
        if provider == "local":
            model = model or s.local_model
        config = LLMConfig(
            provider=provider,
            model=model or (s.llm_model if same_provider else None),
            api_key=(s.llm_api_key.get_secret_value() if s.llm_api_key else None) if same_provider else None,
            base_url=s.llm_base_url if same_provider else None,
            temperature=s.llm_temperature if temperature is None else temperature,
            timeout_s=s.llm_timeout_s,
            max_retries=s.llm_max_retries,
            model_path=own_gguf,
            models_dir=str(s.models_dir or Path(s.data_dir) / "models"),
            n_threads=s.llm_threads,
            n_ctx=s.llm_context_window,
        )
        cap = max_tokens or s.llm_max_tokens or model_profile(config).max_tokens
        return replace(config, max_tokens=cap)

    def local_engine(self, config):
        """One loaded copy per local model file, shared by every chat model over it."""
        from llm_backends import build_local_engine

        key = (config.model_path, config.model, config.n_ctx, config.n_threads)
        with self._lock:
            if key not in self._engines:
                self._engines[key] = build_local_engine(config, progress=_assembly_log(config.model))
            return self._engines[key]

    def default_local_engine(self):
        """The engine of the configured local model, or None when the provider is remote."""
        config = self.llm_config()
        return self.local_engine(config) if config.provider == "local" else None

    def chat_model(self, provider: str | None = None, model: str | None = None, temperature: float | None = None,
                   max_tokens: int | None = None):
        """A chat model and its config. Cheap: the local weights live in the shared engine, and
        remote clients are cached per configuration."""
        from llm_backends import build_chat_model

        config = self.llm_config(provider, model, temperature, max_tokens)
        if config.provider == "local":
            return build_chat_model(config, self.local_engine(config)), config
        with self._lock:
            if config not in self._remote_models:
                self._remote_models[config] = build_chat_model(config)
            return self._remote_models[config], config


def _assembly_log(model_id: str | None):
    """A progress line every 10% while a packaged model is written out (first run only)."""
    import logging

    log, shown = logging.getLogger("kb.llm"), set()

    def progress(done: int, total: int) -> None:
        step = done * 10 // max(total, 1)
        if step not in shown:
            shown.add(step)
            log.info("writing local model %s: %d%% (%d/%d MB)", model_id or "", step * 10, done >> 20, total >> 20)
    return progress


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:60]
