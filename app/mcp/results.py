"""What the MCP tools return: typed results (each tool's output schema), built from what the
operations give back. A passage or citation carries ``uri``, the ``kb://`` resource with its
document's text by page."""

from urllib.parse import quote

from pydantic import BaseModel, Field

URI_TEMPLATE = "kb://{kb}/{doc_id}"


def document_uri(kb: str, doc_id: str) -> str:
    """The resource of one document (the knowledge-base name percent-encoded)."""
    return f"kb://{quote(kb, safe='')}/{doc_id}"


class Passage(BaseModel):
    file: str = Field(description="the document's file name")
    page: int | None = Field(None, description="1-based page of a paged document (PDF)")
    score: float = Field(description="relevance, higher is better")
    text: str
    chunk_id: str = Field(description="this passage's id within its document")
    doc_id: str
    uri: str = Field(description="resource with the document's text by page (resources/read)")
    signals: dict[str, float] | None = Field(
        None,
        description="with explain: each signal that ranked it (dense_score, keyword_rank, ...)",
    )


class SearchResult(BaseModel):
    kb: str
    passages: list[Passage] = Field(description="best first")
    decision: dict | None = Field(
        None,
        description="with explain: whether an answer would be refused before the model, and why",
    )


class PassageState(BaseModel):
    chunk_id: str
    doc_id: str
    index: int | None = Field(description="its place in the document (None: added by hand)")
    page: int | None = None
    headings: str
    text: str
    enabled: bool = Field(description="false: kept, but left out of search and answers")
    edited: bool
    manual: bool = Field(description="added by hand")
    original_text: str | None = Field(None, description="the parsed text an edit replaced")


class PassagePage(BaseModel):
    source: str
    doc_id: str
    total: int
    offset: int
    items: list[PassageState]


class Citation(BaseModel):
    n: int = Field(description="the [n] the answer text cites it by")
    file: str
    page: int | None = None
    text: str = Field(description="the cited passage")
    score: float
    chunk_id: str
    doc_id: str
    uri: str = Field(description="resource with the document's text by page")


class Timings(BaseModel):
    retrieve_ms: float
    first_token_ms: float
    generate_ms: float
    total_ms: float


class AnswerResult(BaseModel):
    answer: str
    citations: list[Citation]
    refused: bool = Field(
        description="true when the knowledge base does not hold the answer (the answer says so)"
    )
    refused_by: str | None = Field(
        None,
        description=(
            "relevance (no passage relevant enough) | names (a name asked about is not in the "
            "passages) | model (the model said the passages lack the answer); null when answered"
        ),
    )
    model: str = Field(description="provider:model that wrote the answer")
    timings: Timings


class KnowledgeBaseInfo(BaseModel):
    name: str
    documents: int
    chunks: int


class KnowledgeBases(BaseModel):
    default: str = Field(description="used when a tool's kb is left out")
    knowledge_bases: list[KnowledgeBaseInfo]


class DocumentInfo(BaseModel):
    doc_id: str
    file: str
    status: str = Field(description="indexed | failed")
    pages: int
    chunks: int
    error: str | None = None
    uri: str | None = Field(None, description="resource with its text by page (indexed only)")


class Documents(BaseModel):
    kb: str
    documents: list[DocumentInfo]


class RefusedFile(BaseModel):
    file: str
    reason: str


class JobAccepted(BaseModel):
    job_id: str = Field(description="poll job_status with it until status is 'done'")
    kb: str
    files: list[str] = Field(description="the files the job will index")
    refused: list[RefusedFile] = Field(description="files not accepted, each with its reason")


class JobFileState(BaseModel):
    file: str
    status: str = Field(description="pending | indexed | duplicate | failed | cancelled")
    stage: str = Field(description="queued | parsing | ocr | embedding | writing | done")
    doc_id: str | None = None
    error: str | None = None
    chunks: int = 0


class JobState(BaseModel):
    job_id: str
    kb: str
    status: str = Field(description="running | done | cancelled")
    progress: float = Field(description="0 to 1")
    elapsed_s: float
    files: list[JobFileState]


def search_result(kb: str, hits, decision: dict | None = None) -> SearchResult:
    """From ``retrieval.Hit`` objects; with the retrieval test's ``decision``, each passage
    carries its signals."""
    from app.operations import hit_signals

    return SearchResult(
        kb=kb,
        passages=[
            Passage(
                file=h.source,
                page=h.page,
                score=round(h.score, 4),
                text=h.text,
                chunk_id=h.chunk_id,
                doc_id=h.doc_id,
                uri=document_uri(kb, h.doc_id),
                signals=hit_signals(h)["signals"] if decision is not None else None,
            )
            for h in hits
        ],
        decision=decision,
    )


def answer_result(kb: str, answer) -> AnswerResult:
    """From an ``answering.Answer``."""
    citations = [
        Citation(
            n=c.n,
            file=c.source,
            page=c.page,
            text=c.text,
            score=round(c.score, 4),
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            uri=document_uri(kb, c.doc_id),
        )
        for c in answer.citations
    ]
    return AnswerResult(
        answer=answer.answer,
        citations=citations,
        refused=answer.refused_by is not None or not answer.found,
        refused_by=answer.refused_by,
        model=answer.model,
        timings=Timings(**{k: answer.timings.get(k, 0.0) for k in Timings.model_fields}),
    )


def documents_result(kb: str, records) -> Documents:
    """From ``retrieval.DocumentRecord`` objects."""
    return Documents(
        kb=kb,
        documents=[
            DocumentInfo(
                doc_id=r.doc_id,
                file=r.source,
                status=r.status,
                pages=r.pages,
                chunks=r.chunks,
                error=r.error,
                uri=document_uri(kb, r.doc_id) if r.status == "indexed" else None,
            )
            for r in records
        ],
    )


def job_state(job) -> JobState:
    """From an ``app.operations.Job``."""
    state = job.as_dict()
    files = [
        JobFileState(
            file=f["source"],
            status=f["status"],
            stage=f["stage"],
            doc_id=f["doc_id"],
            error=f["error"],
            chunks=f["chunks"],
        )
        for f in state["files"]
    ]
    return JobState(
        job_id=job.id,
        kb=job.kb,
        status=state["status"],
        progress=state["progress"],
        elapsed_s=state["elapsed_s"],
        files=files,
    )
