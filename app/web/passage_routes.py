"""A knowledge base's passages, read and corrected: a document's passages listed with their marks,
a passage edited, disabled or enabled (PATCH), added by hand (POST), removed when added by hand
(DELETE), an edit undone. Behind ``KB_API_KEYS`` when set."""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from app.operations import Operations
from app.operations.passages import PassageService
from app.web import document_schemas, schemas
from app.web.deps import operations, require_api_key

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["passages"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody},
    422: {"model": schemas.ErrorBody},
}
_CHUNK_ID = Path(max_length=200, description="a passage's chunk_id")


def passages(ops: Operations = Depends(operations)) -> PassageService:
    return ops.passages


@router.get(
    "/kbs/{name}/documents/{doc_id}/passages",
    response_model=document_schemas.PassagePage,
    responses=_ERRORS,
)
def document_passages(
    name: str,
    doc_id: str,
    offset: int = Query(0, ge=0, le=10_000_000),
    limit: int = Query(50, ge=1, le=500),
    q: str = Query("", max_length=500, description="keep passages whose text holds this"),
    service: PassageService = Depends(passages),
):
    """A document's passages in the order they were indexed (those added by hand last), a page at
    a time, each marked enabled, edited, added by hand."""
    return service.list(name, doc_id, offset, limit, q)


@router.patch(
    "/kbs/{name}/passages/{chunk_id}",
    response_model=document_schemas.PassageItem,
    responses=_ERRORS,
)
def change_passage(
    name: str,
    body: document_schemas.PassageChange,
    chunk_id: str = _CHUNK_ID,
    service: PassageService = Depends(passages),
):
    """New text (embedded again; the keyword index follows: both or neither) and/or enabled."""
    return service.change(name, chunk_id, body.text, body.enabled)


@router.post(
    "/kbs/{name}/passages/{chunk_id}/undo",
    response_model=document_schemas.PassageItem,
    responses=_ERRORS,
)
def undo_edit(name: str, chunk_id: str = _CHUNK_ID, service: PassageService = Depends(passages)):
    """The parsed text back in place of an edit."""
    return service.undo(name, chunk_id)


@router.post(
    "/kbs/{name}/passages",
    response_model=document_schemas.PassageItem,
    status_code=201,
    responses=_ERRORS,
)
def add_passage(
    name: str, body: document_schemas.NewPassage, service: PassageService = Depends(passages)
):
    """A passage written by hand (a question-and-answer note, say): in a document, or in the
    knowledge base's "Notes added by hand"."""
    return service.add(name, body.text, body.doc_id, body.page)


@router.delete("/kbs/{name}/passages/{chunk_id}", status_code=204, responses=_ERRORS)
def remove_passage(
    name: str, chunk_id: str = _CHUNK_ID, service: PassageService = Depends(passages)
) -> None:
    """Remove a passage added by hand (one parsed from its document can only be disabled)."""
    service.remove(name, chunk_id)
