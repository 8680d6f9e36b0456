"""The documents tab: the table of documents, delete with a confirmation, and uploads whose rows
show what is happening to each file (reading page x/y, OCR, embedding chunk x/y, writing) with time
spent and time left, refreshed twice a second."""

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal

import gradio as gr
import pandas as pd

from app.operations.errors import user_message
from app.ui import words

JOB_COLUMNS = [
    "文件 File",
    "状态 Status",
    "进度 Progress",
    "分块 Chunks",
    "用时 Time",
    "原因 Reason",
]
JOB_WIDTHS: list[str | int] = ["20%", "14%", "16%", "8%", "14%", "28%"]
DOC_COLUMNS = [
    "文件 Source",
    "状态 Status",
    "页数 Pages",
    "分块 Chunks",
    "添加时间 Added",
    "原因 Reason",
    "ID",
]
DOC_WIDTHS: list[str | int] = ["24%", "11%", "7%", "7%", "13%", "30%", "8%"]
DOC_TYPES: list[Literal["str", "number", "html"]] = [
    "str",
    "str",
    "str",
    "number",
    "str",
    "str",
    "html",
]  # the id: short, the full one on hover
POLL_S = 0.5
SHORT_ID = 10


def documents_view(ops, kb_name: str | None):
    """Returns (documents table, delete dropdown update, summary markdown)."""
    from app.operations.knowledge import indexed_totals

    empty = pd.DataFrame(columns=DOC_COLUMNS)
    if not kb_name:
        return (
            empty,
            gr.update(choices=[], value=None),
            "*请选择或新建知识库 Choose or create a knowledge base.*",
        )
    try:
        records = ops.knowledge.documents(kb_name)
    except Exception as exc:
        gr.Warning(user_message(exc))
        return empty, gr.update(choices=[], value=None), f"⚠️ {user_message(exc)}"
    records = sorted(records, key=lambda r: r.added_at or 0, reverse=True)  # newest first
    rows = [
        [
            r.source,
            words.STATUS.get(r.status, r.status),
            r.pages or "",
            r.chunks,
            _when(r.added_at),
            words.reason(r.error),
            _short_id(r.doc_id),
        ]
        for r in records
    ]
    choices = [(f"{r.source} ({r.doc_id[:SHORT_ID]})", r.doc_id) for r in records]
    documents, chunks = indexed_totals(records)
    summary = f"**{kb_name}**: {documents} 个文档 documents, {chunks} 个分块 chunks"
    return pd.DataFrame(rows, columns=DOC_COLUMNS), gr.update(choices=choices, value=None), summary


def filter_choices(ops, kb_name: str | None):
    """The documents a question can be limited to (none chosen: the whole knowledge base)."""
    try:
        records = ops.knowledge.documents(kb_name) if kb_name else []
    except Exception:  # noqa: BLE001  the documents table says what went wrong
        records = []
    return gr.update(
        choices=[(r.source, r.doc_id) for r in records if r.status == "indexed"], value=[]
    )


def _short_id(doc_id: str) -> str:
    return f'<span title="{doc_id}">{doc_id[:SHORT_ID]}</span>'


_FULL_ID = re.compile(r'title="([0-9a-f]{64})"')


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else ""


def pick_row(ops, kb_name: str | None, evt: gr.SelectData):
    """Clicking a row of the documents table selects that document (by its short id) for
    deletion."""
    row = evt.row_value or []
    if not row or not kb_name:
        return gr.update()
    full = _FULL_ID.search(str(row[-1]))
    wanted = full.group(1) if full else str(row[-1])
    try:
        matches = [
            r.doc_id for r in ops.knowledge.documents(kb_name) if r.doc_id.startswith(wanted)
        ]
    except Exception:  # noqa: BLE001  the knowledge base went away: nothing to select
        return gr.update()
    return matches[0] if len(matches) == 1 else gr.update()


def ask_to_delete(ops, kb_name: str | None, doc_id: str | None):
    """Returns (confirmation row visibility, its question, naming the file). Nothing is deleted
    until it is confirmed."""
    if not kb_name or not doc_id:
        gr.Warning("请先选择要删除的文档 Choose a document to delete first.")
        return gr.update(visible=False), ""
    source = next(
        (d.source for d in ops.knowledge.documents(kb_name) if d.doc_id == doc_id),
        doc_id[:SHORT_ID],
    )
    return (
        gr.update(visible=True),
        f"**确定删除《{_md(source)}》吗？ Delete “{_md(source)}” and its passages?**",
    )


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", text)


def delete_document(ops, kb_name: str | None, doc_id: str | None):
    """Returns (documents table, delete dropdown, summary, confirmation row visibility)."""
    if kb_name and doc_id:
        try:
            ops.knowledge.delete_document(kb_name, doc_id)
            gr.Info("文档已删除 Document deleted.")
        except Exception as exc:
            gr.Warning(user_message(exc))
    return (*documents_view(ops, kb_name), gr.update(visible=False))


def submit_uploads(ops, kb_name: str, paths: list[str]) -> tuple[str | None, list[list]]:
    """Gradio's temp uploads through the one upload operation (each file judged alone, the rest in
    one job); returns (job id, or None when no file was accepted; refused rows)."""
    streams = [open(tmp, "rb") for tmp in paths]
    try:
        job, refused = ops.knowledge.upload(
            kb_name, [(Path(t).name, f) for t, f in zip(paths, streams)]
        )
    finally:
        for stream, tmp in zip(streams, paths):
            stream.close()
            Path(tmp).unlink(missing_ok=True)  # Gradio's temp copy is no longer needed
    rows = [[name, words.STATUS["failed"], "", 0, "", words.reason(why)] for name, why in refused]
    return (job.id if job else None), rows


def progress_markdown(job: dict, counts: dict[str, int]) -> str:
    if job["status"] in ("done", "cancelled"):
        parts = ", ".join(f"{words.STATUS.get(k, k)}: {v}" for k, v in counts.items())
        head = "✅ 完成 Done" if job["status"] == "done" else "⏹️ 已取消 Cancelled"
        return f"{head} — {parts} ({job['elapsed_s']:.0f} s)"
    pct = int(job["progress"] * 100)
    bar = "█" * (pct // 5) + "░" * (20 - pct // 5)
    current = next((f for f in job["files"] if f["stage"] not in ("queued", "done")), None)
    doing = f" — {current['source']}: {words.STAGE[current['stage']]}" if current else ""
    return f"⏳ 索引中 Indexing… `{bar}` {pct}%{doing} ({job['elapsed_s']:.0f} s)"


def job_rows(job: dict) -> list[list]:
    return [
        [
            f["source"],
            words.STATUS[f["status"]] if f["status"] != "pending" else words.STAGE[f["stage"]],
            _file_progress(f),
            f["chunks"] or f["chunks_total"] or "",
            _file_time(f),
            words.reason(f["error"]) if f["error"] else (f.get("note") or ""),
        ]
        for f in job["files"]
    ]


def _file_progress(f: dict) -> str:
    if f["stage"] in ("embedding", "writing") and f["chunks_total"]:
        return f"分块 chunk {f['chunks_done']}/{f['chunks_total']}"
    if f["stage"] in ("parsing", "ocr") and f["pages_total"]:
        return f"页 page {f['pages_done']}/{f['pages_total']}"
    return ""


def _file_time(f: dict) -> str:
    if not f["elapsed_s"]:
        return ""
    left = f" · 还需约 ~{f['eta_s']:.0f} s left" if f.get("eta_s") is not None else ""
    return f"{f['elapsed_s']:.0f} s{left}"


def upload(ops, kb_name: str | None, paths: list[str] | None) -> Iterator[tuple]:
    """Generator: yields (progress markdown, job table, documents table, delete dropdown, summary,
    file input)."""
    keep = (gr.update(), gr.update(), gr.update())
    if not kb_name or not paths:
        gr.Warning(
            "请先选择或新建知识库 Choose or create a knowledge base first."
            if not kb_name
            else "请先选择文件 Choose files to upload first."
        )
        yield (gr.update(), gr.update(), *keep, gr.update())
        return
    try:
        job_id, rejected = submit_uploads(ops, kb_name, paths)
    except Exception as exc:
        gr.Warning(user_message(exc))
        yield (f"⚠️ {user_message(exc)}", gr.update(), *keep, None)
        return
    if job_id is None:
        yield (
            "⚠️ 没有可索引的文件 Nothing to index.",
            pd.DataFrame(rejected, columns=JOB_COLUMNS),
            *keep,
            None,
        )
        return
    while True:
        try:  # read again each time: with a queue, another process runs the job
            job = ops.knowledge.job(job_id)
        # noqa: BLE001  the queue went away for a moment: say so, keep polling
        except Exception as exc:
            yield (f"⚠️ {user_message(exc)}", gr.update(), *keep, None)
            time.sleep(POLL_S)
            continue
        state = job.as_dict()
        table = pd.DataFrame(job_rows(state) + rejected, columns=JOB_COLUMNS)
        if state["status"] != "running":
            yield (
                progress_markdown(state, job.counts()),
                table,
                *documents_view(ops, kb_name),
                None,
            )
            return
        yield (progress_markdown(state, job.counts()), table, *keep, None)
        time.sleep(POLL_S)


def cancel_indexing(ops, kb_name: str | None) -> str:
    """Stop this knowledge base's running uploads (POST /jobs/{id}/cancel): files not started end
    cancelled; the one being written is finished or rolled back whole, never left half-indexed."""
    if not kb_name:
        return "⚠️ 请先选择知识库 Choose a knowledge base first."
    try:
        running = [
            j
            for j in ops.knowledge.recent_jobs(50)
            if j.kb == kb_name and j.status == "running" and j.kind == "ingest"
        ]
        for job in running:
            ops.knowledge.cancel_job(job.id)
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        return f"⚠️ {user_message(exc)}"
    if not running:
        return "没有正在进行的索引 Nothing is being indexed."
    return f"⏹️ 已请求取消 Cancelling {len(running)} upload(s)…"
