"""How failures become HTTP answers: a status and ``{"detail": message}``, never a trace."""

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def install_error_handlers(app: FastAPI) -> None:
    from app.operations import OperationError
    from llm_backends import LLMBackendError
    from retrieval import InvalidKBName, KBExists, KBNotFound

    def handler(status: int | None, message=str):
        async def _handle(request, exc):
            return JSONResponse({"detail": message(exc)}, status_code=status or exc.status)
        return _handle

    app.add_exception_handler(KBNotFound, handler(404))
    app.add_exception_handler(KBExists, handler(409))
    app.add_exception_handler(InvalidKBName, handler(422))
    app.add_exception_handler(LLMBackendError, handler(503, lambda e: e.message))
    app.add_exception_handler(OperationError, handler(None, lambda e: e.message))

    async def validation(request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_exception_handler(RequestValidationError, validation)
