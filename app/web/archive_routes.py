"""Keeping and moving a knowledge base over REST: download it as one archive, upload an archive
(verified whole before it is accepted, imported by a durable job), and re-embed it with the
configured model as a durable job. Thin over ``app.operations`` (archives, kb_jobs)."""

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from app.operations import Operations
from app.web import schemas
from app.web.deps import operations, require_api_key
from retrieval import MAX_KB_NAME

router = APIRouter(dependencies=[Depends(require_api_key)], tags=["knowledge bases"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody},
    409: {"model": schemas.ErrorBody},
    422: {"model": schemas.ErrorBody},
}


@router.get(
    "/kbs/{name}/export",
    response_class=FileResponse,
    responses={**_ERRORS, 200: {"content": {"application/zip": {}}}},
)
async def export_kb(name: str, cleanup: BackgroundTasks, ops: Operations = Depends(operations)):
    """The knowledge base as one archive (`kb export`'s format: originals, passages, vectors with
    the embedding model's identity, checksums); `POST /kbs/import` or `kb import` restores it."""
    folder = Path(tempfile.mkdtemp(prefix="kb-export-"))
    cleanup.add_task(_remove, folder)
    out = folder / "export.kb.zip"
    try:
        await run_in_threadpool(ops.archives.export, name, out)
    except BaseException:
        _remove(folder)
        raise
    return FileResponse(out, media_type="application/zip", filename=f"{name}.kb.zip")


@router.post(
    "/kbs/import", status_code=202, response_model=schemas.KBJobAccepted, responses=_ERRORS
)
async def import_kb(
    file: UploadFile,
    name: str | None = Form(None, max_length=MAX_KB_NAME, description="default: its own"),
    replace: bool = Form(False, description="replace a knowledge base of that name"),
    ops: Operations = Depends(operations),
):
    """Upload an archive written by `kb export` or `GET /kbs/{name}/export`. It is checked whole
    first: a damaged, truncated or foreign file is refused (422) and nothing is kept; an existing
    name without `replace` is 409. The import then runs as a job (`GET /jobs/{job_id}`); an archive
    made with another embedding model is embedded again with the configured one."""
    job = await run_in_threadpool(
        ops.kb_jobs.submit_import, file.filename or "", file.file, name or None, replace
    )
    return {"job_id": job.id, "kb": job.kb}


@router.post(
    "/kbs/{name}/reembed", status_code=202, response_model=schemas.KBJobAccepted, responses=_ERRORS
)
def reembed_kb(name: str, ops: Operations = Depends(operations)):
    """Embed every passage again with the configured embedding model, as a job with progress
    (`GET /jobs/{job_id}`). Searches use the old vectors until the new ones are swapped in at once;
    a job cut short by a restart resumes where it stopped."""
    job = ops.kb_jobs.submit_reembed(name)
    return {"job_id": job.id, "kb": job.kb}


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
