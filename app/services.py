"""Wiring: turns Settings into the store, the parser, the retriever parts and the chat models.

The one place that knows every library package; the operations in ``app.operations`` use what it
builds, and the front doors (``app.web``, ``app.ui``, ``app.cli``) use the operations. Every part is
built on first use, so a command that needs no model never loads one.
"""

import hashlib
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import cast

from app.settings import Settings
from llm_backends.config import Provider

log = logging.getLogger("kb.llm")


class Services:
    def __init__(self, settings: Settings, *, embeddings=None, store=None):
        """``embeddings`` / ``store``: share already built ones (see :meth:`with_chunk_size`)."""
        self.settings = settings
        self._lock = threading.RLock()
        self._embeddings, self._store = embeddings, store
        self._parser = self._reranker = self._name_check = None
        self._engines: dict = {}  # local model file -> LocalEngine
        self._remote_models: dict = {}  # LLMConfig -> chat model

    def with_chunk_size(self, chunk_size: int) -> "Services":
        """Services whose parser splits into ``chunk_size`` chunks (pages too), sharing this one's
        store and embeddings."""
        if chunk_size < 50:
            raise ValueError(f"chunk size must be at least 50, got {chunk_size}")
        overlap = min(self.settings.chunk_overlap, chunk_size // 4)
        sized = self.settings.model_copy(
            update={
                "chunk_size": chunk_size,
                "chunk_overlap": overlap,
                "page_chunk_size": chunk_size,
                "page_chunk_overlap": overlap,
            }
        )
        return Services(sized, embeddings=self.embeddings, store=self.store)

    # --- storage -------------------------------------------------------------------------------
    @property
    def embeddings(self):
        from retrieval import TimedEmbeddings, build_embeddings

        with self._lock:
            if self._embeddings is None:
                s = self.settings
                key = s.embedding_api_key.get_secret_value() if s.embedding_api_key else None
                self._embeddings = TimedEmbeddings(
                    build_embeddings(s.embedding, s.embedding_model, key, s.embedding_base_url)
                )
            return self._embeddings

    @property
    def embeddings_loaded(self) -> bool:
        return self._embeddings is not None

    @property
    def store(self):
        from retrieval import KnowledgeBaseStore, open_chroma_client

        with self._lock:
            if self._store is None:
                data, url = Path(self.settings.data_dir), self.settings.chroma_url
                client = open_chroma_client(path=data / "chroma", url=url)
                # one keyword index per Chroma server this data dir has talked to
                index_name = (
                    f"keyword-{hashlib.sha1(url.encode()).hexdigest()[:12]}.sqlite"
                    if url
                    else "keyword.sqlite"
                )
                # On a shared server another process may be writing a document right now: only roll
                # back a half-written one whose writer has been silent for minutes.
                self._store = KnowledgeBaseStore(
                    client, self.embeddings, data / index_name, stale_after_s=300.0 if url else 0.0
                )
            return self._store

    @property
    def parser(self):
        from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ParseLimits

        with self._lock:
            if self._parser is None:
                s = self.settings
                limits = LoadLimits(max_file_bytes=s.max_file_mb * 2**20, ocr=s.ocr)
                splitter = ChineseTextSplitter(
                    s.chunk_size, s.chunk_overlap, s.page_chunk_size, s.page_chunk_overlap
                )
                self._parser = IsolatedParser(
                    limits,
                    splitter,
                    ParseLimits(timeout_s=s.parse_timeout_s, memory_mb=s.parse_memory_mb),
                )
            return self._parser

    @property
    def shared_dir(self) -> Path:
        """Uploads and original files: what every replica and worker must see."""
        return Path(self.settings.shared_dir or self.settings.data_dir)

    @property
    def uploads_dir(self) -> Path:
        return self.shared_dir / "uploads"

    # --- retrieval -----------------------------------------------------------------------------
    @property
    def reranker(self):
        with self._lock:
            if self._reranker is None and self.settings.reranker != "none":
                self._reranker = self._build_reranker()
            return self._reranker

    def _build_reranker(self):
        from retrieval import APIReranker, CrossEncoderReranker

        s = self.settings
        if s.reranker == "cross_encoder":
            if not s.reranker_model:
                raise ValueError("KB_RERANKER_MODEL must be a local path to a cross-encoder")
            return CrossEncoderReranker(s.reranker_model)
        key = s.reranker_api_key.get_secret_value() if s.reranker_api_key else None
        return APIReranker(s.reranker_base_url or "", s.reranker_model or "", key)

    @property
    def name_check(self):
        from retrieval import NameCheck

        with self._lock:
            if self._name_check is None:
                self._name_check = NameCheck()
            return self._name_check

    # --- generation ----------------------------------------------------------------------------
    def llm_config(
        self,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ):
        from llm_backends import LLMConfig, model_profile

        s = self.settings
        provider = cast(Provider, provider or s.llm_provider)
        same_provider = provider == s.llm_provider
        own_gguf = s.llm_model_path if provider == "local" and not model else None
        if provider == "local":
            model = model or s.local_model
        config = LLMConfig(
            provider=provider,
            model=model or (s.llm_model if same_provider else None),
            api_key=(
                (s.llm_api_key.get_secret_value() if s.llm_api_key else None)
                if same_provider
                else None
            ),
            base_url=s.llm_base_url if same_provider else None,
            temperature=s.llm_temperature if temperature is None else temperature,
            timeout_s=s.llm_timeout_s,
            max_retries=s.llm_max_retries,
            model_path=own_gguf,
            models_dir=str(s.models_dir or Path(s.data_dir) / "models"),
            n_threads=s.llm_threads,
            n_ctx=s.llm_context_window,
            prompt_lookup_tokens=s.llm_prompt_lookup_tokens,
            side_context=s.llm_side_context,
        )
        default_cap = (
            s.local_max_tokens if provider == "local" else model_profile(config).max_tokens
        )
        cap = max_tokens or s.llm_max_tokens or default_cap
        return replace(config, max_tokens=cap)

    def local_engine(self, config):
        """One loaded copy per local model file, shared by every chat model over it."""
        from llm_backends import build_local_engine

        key = (
            config.model_path,
            config.model,
            config.n_ctx,
            config.n_threads,
            config.prompt_lookup_tokens,
        )
        with self._lock:
            if key not in self._engines:
                self._engines[key] = build_local_engine(
                    config, progress=_assembly_log(config.model)
                )
            return self._engines[key]

    def default_local_engine(self):
        """The engine of the configured local model, or None when the provider is remote."""
        config = self.llm_config()
        return self.local_engine(config) if config.provider == "local" else None

    def chat_model(
        self,
        provider: str | None = None,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ):
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
    shown: set[int] = set()

    def progress(done: int, total: int) -> None:
        step = done * 10 // max(total, 1)
        if step not in shown:
            shown.add(step)
            log.info(
                "writing local model %s: %d%% (%d/%d MB)",
                model_id or "",
                step * 10,
                done >> 20,
                total >> 20,
            )

    return progress
