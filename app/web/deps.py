"""FastAPI dependencies: the API key check and the operations each route is given.

Routes ask for ``Depends(knowledge)`` / ``Depends(answers)`` / ``Depends(search)``; a test swaps any
of them with ``app.dependency_overrides[answers] = ...``.
"""

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.operations import AnswerService, KnowledgeService, Operations, SearchService, SourceService

_bearer = HTTPBearer(auto_error=False)
MISSING_KEY = "missing or invalid API key (send 'Authorization: Bearer <key>')"


def operations(request: Request) -> Operations:
    return request.app.state.operations


def knowledge(ops: Operations = Depends(operations)) -> KnowledgeService:
    return ops.knowledge


def search(ops: Operations = Depends(operations)) -> SearchService:
    return ops.search


def answers(ops: Operations = Depends(operations)) -> AnswerService:
    return ops.answers


def sources(ops: Operations = Depends(operations)) -> SourceService:
    return ops.sources


def has_api_key(
    creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ops: Operations = Depends(operations),
) -> bool:
    """True when no keys are set or the request carries one of them."""
    keys = ops.settings.api_key_set()
    return not keys or (creds is not None and creds.credentials in keys)


def require_api_key(authorized: bool = Depends(has_api_key)) -> None:
    if not authorized:
        raise HTTPException(401, MISSING_KEY, headers={"WWW-Authenticate": "Bearer"})
