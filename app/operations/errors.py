"""Mistakes a user can make through any front door, each with the HTTP status the REST API answers,
and the one sentence a user is shown for any failure."""

import logging

log = logging.getLogger("kb")


class OperationError(Exception):
    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(OperationError):
    status = 422


class NotFound(OperationError):
    status = 404


class UnsupportedFile(OperationError):
    status = 415


class FileTooLarge(OperationError):
    status = 413


class DiskFull(OperationError):
    """The data dir has too little free space for what was asked (``disk full: X MB free, needs Y
    MB``); nothing was accepted, and what is stored is untouched."""

    status = 507


class Unavailable(OperationError):
    """A service the request needs (the job queue) cannot be reached; nothing was accepted."""

    status = 503


def user_message(exc: BaseException) -> str:
    """One readable sentence for the errors users can cause or fix; a generic line (and a logged
    trace) otherwise."""
    from llm_backends import LLMBackendError
    from retrieval import EmbeddingMismatch, KBError

    if isinstance(exc, LLMBackendError):
        return exc.message
    if isinstance(exc, EmbeddingMismatch):
        return (
            f"{exc}. Set KB_EMBEDDING and KB_EMBEDDING_MODEL back to the model that made it, or "
            f"run `kb reembed '{exc.kb_name}'` to embed its passages again with the configured one"
        )
    if isinstance(exc, OperationError):
        return exc.message
    if isinstance(exc, KBError):
        return str(exc)
    log.error("operation failed", exc_info=exc)
    return f"something went wrong ({type(exc).__name__}); see the server log"
