"""How failures become HTTP answers, never a trace: ``{"detail": message}`` on the REST routes, and
OpenAI's ``{"error": {"message", "type", "code", "param"}}`` on the OpenAI-compatible ``/v1``
routes, so OpenAI clients show the reason (an unknown model names the knowledge bases there are)."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "requests",  # OpenAI's rate-limit type
    503: "server_error",
    507: "server_error",
}


def _is_openai(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def error_response(
    request: Request,
    status: int,
    message,
    code: str | None = None,
    param: str | None = None,
    headers: dict | None = None,
) -> JSONResponse:
    if not _is_openai(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    status = 400 if status == 422 else status  # OpenAI answers a bad request with 400
    body = {
        "message": message if isinstance(message, str) else str(message),
        "type": _OPENAI_TYPES.get(status, "api_error"),
        "code": code,
        "param": param,
    }
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    from app.operations import Busy, DiskFull, OperationError, user_message
    from app.web.waiting import AnswerFailed, ClientLeft
    from llm_backends import LLMBackendError
    from retrieval import (
        ArchiveError,
        EmbeddingMismatch,
        InvalidKBName,
        KBExists,
        KBNotFound,
        is_disk_full,
    )

    async def not_found(request: Request, exc: Exception) -> Response:
        if not _is_openai(request):
            return error_response(request, 404, str(exc))
        names = [kb.name for kb in request.app.state.operations.knowledge.list_kbs()]
        return error_response(
            request,
            404,
            f"{exc}: the models here are the knowledge bases: {', '.join(names) or '(none yet)'}",
            code="model_not_found",
            param="model",
        )

    def plain(status: int | None, message: Callable[[Any], str] = str, code: str | None = None):
        async def handle(request: Request, exc: Exception) -> Response:
            return error_response(
                request, status or int(getattr(exc, "status", 500)), message(exc), code=code
            )

        return handle

    async def busy(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Busy)
        return error_response(
            request,
            429,
            exc.message,
            code="rate_limit_exceeded",
            headers={"Retry-After": str(exc.retry_after_s)},
        )

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        if not _is_openai(request):
            return JSONResponse({"detail": errors}, status_code=422)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(part) for part in first["loc"] if part != "body")
        return error_response(
            request, 400, f"{where}: {first['msg']}" if where else first["msg"], param=where or None
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if is_disk_full(exc):  # an upload's body could not be spooled to a full temporary dir
            message = f"disk full: the upload could not be received ({exc.__cause__})"
            return error_response(request, 507, message, code="disk_full")
        code = "invalid_api_key" if exc.status_code == 401 else None
        return error_response(
            request, exc.status_code, exc.detail, code=code, headers=getattr(exc, "headers", None)
        )

    app.add_exception_handler(KBNotFound, not_found)
    app.add_exception_handler(KBExists, plain(409))
    app.add_exception_handler(InvalidKBName, plain(422))
    app.add_exception_handler(ArchiveError, plain(422, code="invalid_archive"))
    # the knowledge base is fine, the configured embedding model is not the one that made it
    app.add_exception_handler(
        EmbeddingMismatch, plain(409, user_message, code="embedding_mismatch")
    )
    app.add_exception_handler(
        LLMBackendError, plain(503, lambda e: e.message, code="backend_unavailable")
    )
    app.add_exception_handler(Busy, busy)
    app.add_exception_handler(
        AnswerFailed, plain(503, lambda e: e.message, code="backend_unavailable")
    )
    # nginx's "client closed request": the client is gone, nobody reads it; no trace in the log
    app.add_exception_handler(ClientLeft, lambda _request, _exc: Response(status_code=499))

    async def unexpected(request: Request, exc: Exception) -> Response:
        """Never a bare 500: a full disk wherever it surfaced is a 507 that says so, anything else
        a 500 whose body says what failed (the trace goes to the log)."""
        if is_disk_full(exc):
            disk = request.app.state.operations.knowledge.disk
            return error_response(request, 507, disk.reason(), code="disk_full")
        return error_response(request, 500, user_message(exc))

    app.add_exception_handler(OperationError, plain(None, lambda e: e.message))
    app.add_exception_handler(DiskFull, plain(507, lambda e: e.message, code="disk_full"))
    app.add_exception_handler(Exception, unexpected)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(HTTPException, http_error)
