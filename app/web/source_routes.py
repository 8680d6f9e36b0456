"""Source preview routes: a document's original file, one page drawn with the cited passage
highlighted, and the passage in its surrounding text. Page numbers are checked, images capped, paths
never taken from the request (documents are named by id, checked against the knowledge base)."""

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from app.operations import SourceService
from app.web import document_schemas, schemas
from app.web.deps import require_api_key, sources

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["sources"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody},
    422: {"model": schemas.ErrorBody},
}
_PAGE = Path(ge=1, le=100_000, description="1-based page number")
_CHUNK = Query(
    None, max_length=200, description="the cited chunk to highlight (a citation's chunk_id)"
)


@router.get(
    "/kbs/{name}/documents/{doc_id}/file",
    responses={**_ERRORS, 200: {"content": {"*/*": {}}}},
    response_class=FileResponse,
)
def original_file(name: str, doc_id: str, service: SourceService = Depends(sources)):
    path, filename, media_type = service.original(name, doc_id)
    return FileResponse(path, media_type=media_type, filename=filename)


@router.get(
    "/kbs/{name}/documents/{doc_id}/pages/{page}.png",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"image/png": {}}}},
)
async def page_image(
    name: str,
    doc_id: str,
    page: int = _PAGE,
    chunk: str | None = _CHUNK,
    service: SourceService = Depends(sources),
):
    preview = await run_in_threadpool(service.page_preview, name, doc_id, page, chunk)
    return Response(
        preview.png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get(
    "/kbs/{name}/documents/{doc_id}/pages/{page}/highlights",
    response_model=document_schemas.PageHighlights,
    responses=_ERRORS,
)
async def page_highlights(
    name: str,
    doc_id: str,
    page: int = _PAGE,
    chunk: str | None = _CHUNK,
    service: SourceService = Depends(sources),
):
    """Where the page image highlights the chunk: boxes in the image's pixels (empty when not
    located)."""
    p = await run_in_threadpool(service.page_preview, name, doc_id, page, chunk)
    return {
        "page": p.page,
        "pages": p.pages,
        "width": p.width,
        "height": p.height,
        "boxes": [list(b) for b in p.boxes],
    }


@router.get(
    "/kbs/{name}/documents/{doc_id}/passages/{chunk_id}",
    response_model=document_schemas.PassageInfo,
    responses=_ERRORS,
)
def passage(
    name: str,
    doc_id: str,
    chunk_id: str = Path(max_length=200),
    service: SourceService = Depends(sources),
):
    return service.passage(name, doc_id, chunk_id)


@router.get(
    "/kbs/{name}/documents/{doc_id}/outline",
    response_model=document_schemas.DocumentOutline,
    responses=_ERRORS,
)
def outline(name: str, doc_id: str, service: SourceService = Depends(sources)):
    """The document's outline (its own PDF outline, or headings found in its text) with each
    section's page range, first passage and digest."""
    return service.outline(name, doc_id)
