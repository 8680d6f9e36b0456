"""The public REST contract (pydantic models). Keep it stable."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from retrieval import MAX_KB_NAME, SearchMode

_STRICT = ConfigDict(extra="forbid")


class LLMInfo(BaseModel):
    provider: str
    model: str
    ready: bool = Field(description="the model can answer now (a local model has finished loading)")
    state: str = Field(
        description="local model: not loaded | loading | ready | failed; remote: remote"
    )


class EmbeddingInfo(BaseModel):
    model: str


class Limits(BaseModel):
    """The limits uploads meet, each a setting (README, "Settings")."""

    max_upload_mb: int = Field(description="KB_MAX_UPLOAD_MB: the largest file an upload may carry")
    min_free_mb: int = Field(
        description=(
            "KB_MIN_FREE_MB: free space an upload must leave in the data dir (else 507); a job "
            "stops writing a file below a quarter of it"
        )
    )
    job_retention_hours: float = Field(
        description=(
            "KB_JOB_RETENTION_HOURS: uploaded originals (the job's copies) are deleted this long "
            "after their job ends; the copy behind an indexed document's previews stays until the "
            "document is deleted"
        )
    )


class Health(BaseModel):
    """Without an API key (when keys are set) only status, ready, store, queue and disk are given:
    enough for a load balancer or a compose healthcheck, nothing about the setup."""

    status: Literal["ok", "degraded"] = "ok"
    ready: bool = Field(description="the model can answer now and the store is reachable")
    store: Literal["ok", "unreachable"]
    queue: Literal["ok", "unreachable"] = Field(
        "ok", description="the job store (the shared queue with replicas)"
    )
    disk: Literal["ok", "full"] = Field(
        "ok",
        description=(
            "full: less than KB_MIN_FREE_MB free in the data dir; uploads are answered 507 "
            "(status degraded, HTTP 200: searches and answers go on)"
        ),
    )
    disk_free_mb: float | None = Field(None, description="free space in the data dir (MB)")
    limits: Limits | None = None
    version: str | None = None
    llm: LLMInfo | None = None
    embedding: EmbeddingInfo | None = None


class KBCreate(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=MAX_KB_NAME)


class KBSummary(BaseModel):
    name: str
    documents: int
    chunks: int
    embedding: str | None = Field(
        None, description="the embedding model that made its vectors (null: not stamped yet)"
    )


class DocumentInfo(BaseModel):
    doc_id: str
    source: str
    pages: int
    chunks: int
    status: str
    error: str | None = None
    added_at: float = Field(0.0, description="when the file was received (seconds since epoch)")


class RefusedFile(BaseModel):
    source: str
    reason: str


class JobAccepted(BaseModel):
    job_id: str
    refused: list[RefusedFile] = []  # files not accepted (type, size), each with its reason


class JobFileInfo(BaseModel):
    source: str
    status: Literal["indexed", "duplicate", "failed", "pending", "cancelled"]
    doc_id: str | None = None
    error: str | None = None
    note: str | None = Field(
        None, description="a word on an indexed file: e.g. the passage edits a new version dropped"
    )
    chunks: int = 0
    stage: Literal[
        "queued", "parsing", "ocr", "embedding", "writing", "waiting for the store", "done"
    ] = Field(
        "queued",
        description=(
            "what is happening to the file now (ocr: pages without text being recognised; "
            "waiting for the store: the Chroma server or the job queue is away, tried again "
            "with backoff for up to KB_STORE_WAIT_S)"
        ),
    )
    pages_done: int = 0
    pages_total: int = Field(
        0, description="paged formats: pages in the file (0 until reading starts)"
    )
    chunks_done: int = 0
    chunks_total: int = 0
    elapsed_s: float = 0.0
    eta_s: float | None = Field(
        None, description="seconds left for this file, estimated while embedding"
    )


class JobInfo(BaseModel):
    job_id: str
    kb: str
    kind: Literal["ingest", "reembed", "import", "import-replace"] = "ingest"
    status: Literal["running", "done", "cancelled"]
    progress: float = Field(ge=0, le=1)
    elapsed_s: float = 0.0
    files: list[JobFileInfo]


class SearchRequest(BaseModel):
    model_config = _STRICT
    kb: str = Field(min_length=1, max_length=MAX_KB_NAME)
    query: str = Field(min_length=1, description="at most KB_MAX_QUESTION_CHARS characters")
    k: int | None = Field(None, ge=1, le=50, description="unset: KB_SEARCH_K")
    mode: SearchMode | None = Field(None, description="unset: KB_SEARCH_MODE")
    doc_ids: list[str] | None = Field(None, description="search only these documents")
    explain: bool = Field(
        False, description="the retrieval test: each hit's signals and the answer step's decision"
    )


class SearchHit(BaseModel):
    text: str
    score: float
    source: str
    page: int | None = None
    doc_id: str
    chunk_id: str = ""
    signals: dict[str, float] | None = Field(
        None,
        description=(
            "with explain: dense_score (cosine), dense_rank, focused_dense_rank, keyword_score "
            "(BM25), keyword_rank, fused_score (reciprocal rank fusion), reference_boost, "
            "rank_before_page_rescore, page_rescore, rerank_score; a signal that did not take "
            "part is absent"
        ),
    )


class SearchDecision(BaseModel):
    refused_by: str | None = Field(
        description="relevance | names: the answer would be refused before the model; null: asked"
    )
    reason: str
    question_lang: str
    best_dense_score: float | None
    best_dense_lang: str | None
    bar: float | None = Field(description="the relevance bar for this pair of languages")
    missing_names: list[str] | None = Field(description="null: the name check is off")


class SearchResponse(BaseModel):
    hits: list[SearchHit]
    options: dict | None = Field(None, description="with explain: the search's options")
    decision: SearchDecision | None = Field(None, description="with explain")
    structure_question: dict | None = Field(
        None,
        description=(
            "with explain: the question read as one about a document's outline (answered from "
            "it when the documents in scope have one); null: the usual way"
        ),
    )


class ChatTurn(BaseModel):
    model_config = _STRICT
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20000)


class AskRequest(BaseModel):
    model_config = _STRICT
    kb: str = Field(min_length=1, max_length=MAX_KB_NAME)
    question: str = Field(min_length=1, description="at most KB_MAX_QUESTION_CHARS characters")
    history: list[ChatTurn] = Field(default_factory=list, max_length=50)
    k: int | None = Field(None, ge=1, le=20)
    stream: bool = False


class CitationOut(BaseModel):
    n: int
    source: str
    page: int | None = None
    text: str
    score: float
    doc_id: str = ""
    chunk_id: str = ""
    support: str = Field("", description="the passage's sentence closest to the answer")


class Timings(BaseModel):
    retrieve_ms: float
    first_token_ms: float
    generate_ms: float
    total_ms: float


class AskResponse(BaseModel):
    answer: str
    citations: list[CitationOut]
    timings: Timings
    model: str
    confidence: float | None = Field(
        None,
        description=(
            "1 - the model's probability of starting the refusal "
            "sentence where its answer starts; null when the model was not asked"
        ),
    )
    refused_by: Literal["relevance", "names", "model"] | None = Field(
        None,
        description=(
            "relevance (no passage relevant enough) | names (a name asked about is not in the "
            "passages) | model (the model said the passages lack the answer); null when answered"
        ),
    )
    answer_id: str = Field("", description="what POST /feedback rates this answer by")
    cut_at_length: bool = Field(
        False, description="the model stopped at its length cap before it finished"
    )
    weak_evidence: bool = Field(
        False,
        description="answered on thin evidence: shown with 'the documents may not state this "
        "directly'",
    )


class ErrorBody(BaseModel):
    detail: str


class OpenAIMessage(BaseModel):
    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat-completions body. Fields kb-assistant cannot honour (n > 1, tools) are refused
    with a 400, not ignored; other OpenAI fields (top_p, user, ...) are accepted and have no effect.
    """

    model: str = Field(min_length=1, max_length=MAX_KB_NAME, description="the knowledge-base name")
    messages: list[OpenAIMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(None, ge=1, le=8192)
    n: int | None = Field(None, ge=1, le=128, description="only 1 is supported")
    tools: list | None = Field(None, description="not supported: refused with 400")
    tool_choice: str | dict | None = Field(None, description="not supported: refused with 400")
    functions: list | None = Field(None, description="not supported: refused with 400")


class KBJobAccepted(BaseModel):
    job_id: str
    kb: str = Field(description="the knowledge base the job works on")
