"""Ratings of answers: 👍/👎 on an answer by its ``answer_id``, with a reason and the right answer;
the ratings listed; and exported as a QA set that ``kb eval`` runs as this knowledge base's
regression test. Behind ``KB_API_KEYS`` when set."""

import json
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.operations import KBNotFound, NotFound, Operations
from app.operations.feedback import as_qa_items
from app.web import document_schemas, schemas
from app.web.deps import operations, require_api_key

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["feedback"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody},
    422: {"model": schemas.ErrorBody},
}


def _known(ops: Operations, kb: str) -> None:
    if not ops.knowledge.exists(kb):
        raise NotFound(str(KBNotFound(f"knowledge base '{kb}' does not exist")))


@router.post(
    "/feedback", response_model=document_schemas.FeedbackItem, status_code=201, responses=_ERRORS
)
def rate_answer(body: document_schemas.FeedbackRequest, ops: Operations = Depends(operations)):
    """Rate an answer: stored with its question, answer, citations and the configuration that
    answered. A second rating of the same answer replaces the first."""
    _known(ops, body.kb)
    return ops.feedback.rate(body.answer_id, body.kb, body.rating, body.reason, body.correct_answer)


@router.get(
    "/kbs/{name}/feedback", response_model=list[document_schemas.FeedbackItem], responses=_ERRORS
)
def list_feedback(
    name: str, limit: int = Query(200, ge=1, le=10_000), ops: Operations = Depends(operations)
):
    """The rated answers of a knowledge base, newest first."""
    _known(ops, name)
    return ops.feedback.listed(name, limit)


@router.get(
    "/kbs/{name}/feedback/export",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/x-ndjson": {}}}},
)
def export_feedback(name: str, ops: Operations = Depends(operations)):
    """The ratings as a QA set (JSONL: id, question, answers, source, page, context), what
    `kb feedback export` writes; `kb eval` runs it."""
    _known(ops, name)
    items, _ = as_qa_items(ops.feedback.listed(name, 100_000))
    body = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="feedback.jsonl"'},
    )
