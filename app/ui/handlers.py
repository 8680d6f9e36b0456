"""What the web UI's buttons do: plain functions over the operations (``app.operations``), no layout.

Every user-facing failure becomes a short message (gr.Warning or a line in the chat); stack traces
go to the log only. Per-user state (chat history, the last job) lives in the caller's gr.State.
"""

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pandas as pd

log = logging.getLogger("kb.ui")

JOB_COLUMNS = ["文件 File", "状态 Status", "分块 Chunks", "错误 Error"]
DOC_COLUMNS = ["文件 Source", "页数 Pages", "分块 Chunks", "状态 Status", "错误 Error", "doc_id"]
STATUS_ZH = {"pending": "等待中 pending", "indexed": "已索引 indexed", "duplicate": "重复 duplicate",
             "failed": "失败 failed", "deleting": "删除中 deleting"}
POLL_S = 0.5


def user_error(exc: BaseException) -> str:
    from app.operations import user_message

    return user_message(exc)


# --- knowledge bases ---------------------------------------------------------------------------
def kb_choices(ops) -> list[tuple[str, str]]:
    return [(i.name, i.name) for i in ops.knowledge.list_kbs()]  # counts live in the summary line, never stale


def kb_dropdown(ops, preferred: str | None = None):
    """The knowledge-base dropdown, refreshed; keeps `preferred` when it still exists."""
    try:
        choices = kb_choices(ops)
    except Exception as exc:
        gr.Warning(f"无法读取知识库列表 Cannot list knowledge bases: {user_error(exc)}")
        return gr.update()
    names = [value for _, value in choices]
    default = ops.knowledge.default_kb
    value = preferred if preferred in names else (default if default in names else (names[0] if names else None))
    return gr.update(choices=choices, value=value)


def create_kb(ops, name: str):
    """Returns (dropdown update, new-name textbox value)."""
    try:
        kb = ops.knowledge.create(name or "")
    except Exception as exc:
        gr.Warning(f"无法创建知识库 Cannot create knowledge base: {user_error(exc)}")
        return gr.update(), name
    gr.Info(f"已创建知识库 Created knowledge base '{kb.name}'")
    return kb_dropdown(ops, kb.name), ""


# --- documents ---------------------------------------------------------------------------------
def documents_view(ops, kb_name: str | None):
    """Returns (documents table, delete dropdown update, summary markdown)."""
    from app.operations.knowledge import indexed_totals

    empty = pd.DataFrame(columns=DOC_COLUMNS)
    if not kb_name:
        return empty, gr.update(choices=[], value=None), "*请选择或新建知识库 Choose or create a knowledge base.*"
    try:
        records = ops.knowledge.documents(kb_name)
    except Exception as exc:
        gr.Warning(user_error(exc))
        return empty, gr.update(choices=[], value=None), f"⚠️ {user_error(exc)}"
    rows = [[r.source, r.pages, r.chunks, STATUS_ZH.get(r.status, r.status), r.error or "", r.doc_id] for r in records]
    choices = [(f"{r.source} ({r.doc_id[:8]})", r.doc_id) for r in records]
    documents, chunks = indexed_totals(records)
    summary = f"**{kb_name}**: {documents} 个文档 documents, {chunks} 个分块 chunks"
    return pd.DataFrame(rows, columns=DOC_COLUMNS), gr.update(choices=choices, value=None), summary


def delete_document(ops, kb_name: str | None, doc_id: str | None):
    if not kb_name or not doc_id:
        gr.Warning("请先选择要删除的文档 Choose a document to delete first.")
    else:
        try:
            ops.knowledge.delete_document(kb_name, doc_id)
            gr.Info("文档已删除 Document deleted.")
        except Exception as exc:
            gr.Warning(user_error(exc))
    return documents_view(ops, kb_name)


def save_uploads(ops, kb_name: str, paths: list[str]) -> tuple[list[tuple[Path, str]], list[list]]:
    """Copies Gradio's temp uploads into the uploads folder; returns (files to ingest, rejected rows)."""
    streams = [open(tmp, "rb") for tmp in paths]
    try:
        saved, rejected = ops.knowledge.save_uploads(kb_name, [(Path(t).name, f) for t, f in zip(paths, streams)])
    finally:
        for stream, tmp in zip(streams, paths):
            stream.close()
            Path(tmp).unlink(missing_ok=True)  # Gradio's temp copy is no longer needed
    return saved, [[name, STATUS_ZH["failed"], 0, reason] for name, reason in rejected]


def _progress_md(job: dict, counts: dict[str, int]) -> str:
    pct = int(job["progress"] * 100)
    bar = "█" * (pct // 5) + "░" * (20 - pct // 5)
    if job["status"] == "done":
        parts = ", ".join(f"{STATUS_ZH.get(k, k)}: {v}" for k, v in counts.items())
        return f"✅ 完成 Done — {parts}"
    return f"⏳ 索引中 Indexing… `{bar}` {pct}%"


def _job_rows(job: dict) -> list[list]:
    return [[f["source"], STATUS_ZH.get(f["status"], f["status"]), f["chunks"], f["error"] or ""] for f in job["files"]]


def upload(ops, kb_name: str | None, paths: list[str] | None) -> Iterator[tuple]:
    """Generator: yields (progress markdown, job table, documents table, delete dropdown, summary, file input)."""
    keep = (gr.update(), gr.update(), gr.update())
    if not kb_name:
        gr.Warning("请先选择或新建知识库 Choose or create a knowledge base first.")
        yield (gr.update(), gr.update(), *keep, gr.update())
        return
    if not paths:
        gr.Warning("请先选择文件 Choose files to upload first.")
        yield (gr.update(), gr.update(), *keep, gr.update())
        return
    try:
        saved, rejected = save_uploads(ops, kb_name, paths)
    except Exception as exc:
        gr.Warning(user_error(exc))
        yield (f"⚠️ {user_error(exc)}", gr.update(), *keep, None)
        return
    if not saved:
        yield ("⚠️ 没有可索引的文件 Nothing to index.", pd.DataFrame(rejected, columns=JOB_COLUMNS), *keep, None)
        return
    job = ops.knowledge.submit(kb_name, saved)
    while True:
        state = job.as_dict()
        rows = _job_rows(state) + rejected
        if state["status"] == "done":
            table = pd.DataFrame(rows, columns=JOB_COLUMNS)
            yield (_progress_md(state, job.counts()), table, *documents_view(ops, kb_name), None)
            return
        yield (_progress_md(state, job.counts()), pd.DataFrame(rows, columns=JOB_COLUMNS), *keep, None)
        time.sleep(POLL_S)
