"""`kb ingest` waits on its ingestion job: the same durable job an upload through the web page or
REST makes, run by this process (one machine) or by `kb worker` processes (a queue). Progress comes
from the job's own record, so the terminal shows what any other door would."""

import time

from rich.console import Console
from rich.table import Table

from app.cli.progress import progress_bar

POLL_S = 0.3


def follow_job(ops, job_id: str, stderr: bool = False, reraise: bool = False):
    """Draws the job's progress until it ends; Ctrl-C cancels it (files already indexed stay). The
    Job; with ``reraise``, the Ctrl-C goes on to the caller once the job has stopped (`kb sync
    --watch` then stops watching instead of swallowing it)."""
    console = Console(stderr=stderr)
    with progress_bar(console, transient=stderr) as bar:
        files = chunks = None
        try:
            while True:
                job = ops.knowledge.job(job_id)
                state = job.as_dict()
                files = (
                    files if files is not None else bar.add_task("files", total=len(state["files"]))
                )
                chunks = (
                    chunks if chunks is not None else bar.add_task("chunks", total=0, visible=False)
                )
                _draw(bar, files, chunks, state)
                if state["status"] != "running":
                    return job
                time.sleep(POLL_S)
        except KeyboardInterrupt:
            console.print(
                "[yellow]cancelling[/]: the file being embedded is finished first; indexed files"
                " stay"
            )
            ops.knowledge.cancel_job(job_id)
            while ops.knowledge.job(job_id).status == "running":
                time.sleep(POLL_S)
            if reraise:
                raise
            return ops.knowledge.job(job_id)


def _draw(bar, files_task, chunks_task, state: dict) -> None:
    done = sum(f["status"] != "pending" for f in state["files"])
    current = next(
        (f for f in state["files"] if f["status"] == "pending" and f["stage"] != "queued"), None
    )
    what = ""
    if current is not None:
        what = current["source"][:36]
        if current["stage"] in ("parsing", "ocr") and current["pages_total"]:
            what += (
                f" ({'OCR ' if current['stage'] == 'ocr' else ''}page"
                f" {current['pages_done']}/{current['pages_total']})"
            )
    bar.update(files_task, completed=done, description=f"files  {what}")
    if current is not None and current["chunks_total"]:
        bar.update(
            chunks_task,
            total=current["chunks_total"],
            completed=current["chunks_done"],
            visible=True,
            description=f"chunks {current['source'][:36]}",
        )


def job_report(kb_name: str, job) -> dict:
    """The finished job as `kb ingest --json` prints it."""
    state = job.as_dict()
    return {
        "kb": kb_name,
        "job": job.id,
        "status": state["status"],
        "counts": job.counts(),
        "files": state["files"],
        "seconds": round(time.time() - job.created, 2),
    }


def print_job_outcomes(kb_name: str, job) -> None:
    console = Console()
    table = Table(
        "file", "status", "pages", "chunks", "detail", title=f"knowledge base '{kb_name}'"
    )
    table.columns[0].overflow = "fold"
    style = {
        "indexed": "green",
        "duplicate": "cyan",
        "failed": "red",
        "cancelled": "yellow",
        "pending": "yellow",
    }
    for f in job.as_dict()["files"]:
        table.add_row(
            f["source"],
            f"[{style.get(f['status'], 'white')}]{f['status']}[/]",
            str(f["pages_total"] or ""),
            str(f["chunks"] or ""),
            f["error"] or (f["doc_id"] or "")[:12],
        )
    console.print(table)
    counts = job.counts()
    console.print(
        f"{counts.get('indexed', 0)} indexed, {counts.get('duplicate', 0)} duplicate, "
        f"{counts.get('failed', 0)} failed; job {job.id[:12]} in {time.time() - job.created:.1f} s"
    )
