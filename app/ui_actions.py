"""What the web UI's buttons do: plain functions over Services and JobManager, no layout.

Every user-facing failure becomes a short message (gr.Warning or a line in the chat); stack traces
go to the log only. Per-user state (chat history, the last job) lives in the caller's gr.State.
"""

import logging
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pandas as pd

log = logging.getLogger("kb.ui")

JOB_COLUMNS = ["文件 File", "状态 Status", "分块 Chunks", "错误 Error"]
DOC_COLUMNS = ["文件 Source", "页数 Pages", "分块 Chunks", "状态 Status", "错误 Error", "doc_id"]
STATUS_ZH = {"pending": "等待中 pending", "indexed": "已索引 indexed", "duplicate": "重复 duplicate",
             "failed": "失败 failed", "deleting": "删除中 deleting"}
NO_SOURCES = "*暂无来源 No sources yet.*"
POLL_S = 0.5
QUOTE_CHARS = 400


def user_error(exc: BaseException) -> str:
    """One readable sentence for the errors users can cause or fix; a generic line otherwise."""
    from llm_backends import LLMBackendError
    from retrieval.store import KBError

    if isinstance(exc, LLMBackendError):
        return exc.message
    if isinstance(exc, KBError):
        return str(exc)
    log.exception("UI action failed", exc_info=exc)
    return f"操作失败 Something went wrong ({type(exc).__name__}); see the server log."


# --- knowledge bases ---------------------------------------------------------------------------
def kb_choices(services) -> list[tuple[str, str]]:
    return [(i.name, i.name) for i in services.store.list()]  # counts live in the summary line, never stale


def kb_dropdown(services, preferred: str | None = None):
    """The knowledge-base dropdown, refreshed; keeps `preferred` when it still exists."""
    try:
        choices = kb_choices(services)
    except Exception as exc:
        gr.Warning(f"无法读取知识库列表 Cannot list knowledge bases: {user_error(exc)}")
        return gr.update()
    names = [value for _, value in choices]
    default = services.settings.default_kb
    value = preferred if preferred in names else (default if default in names else (names[0] if names else None))
    return gr.update(choices=choices, value=value)


def create_kb(services, name: str):
    """Returns (dropdown update, new-name textbox value)."""
    try:
        kb = services.store.create(name or "")
    except Exception as exc:
        gr.Warning(f"无法创建知识库 Cannot create knowledge base: {user_error(exc)}")
        return gr.update(), name
    gr.Info(f"已创建知识库 Created knowledge base '{kb.name}'")
    return kb_dropdown(services, kb.name), ""


# --- documents ---------------------------------------------------------------------------------
def documents_view(services, kb_name: str | None):
    """Returns (documents table, delete dropdown update, summary markdown)."""
    empty = pd.DataFrame(columns=DOC_COLUMNS)
    if not kb_name:
        return empty, gr.update(choices=[], value=None), "*请选择或新建知识库 Choose or create a knowledge base.*"
    try:
        records = services.store.get(kb_name).documents()
    except Exception as exc:
        gr.Warning(user_error(exc))
        return empty, gr.update(choices=[], value=None), f"⚠️ {user_error(exc)}"
    rows = [[r.source, r.pages, r.chunks, STATUS_ZH.get(r.status, r.status), r.error or "", r.doc_id] for r in records]
    choices = [(f"{r.source} ({r.doc_id[:8]})", r.doc_id) for r in records]
    indexed = [r for r in records if r.status == "indexed"]
    summary = (f"**{kb_name}**: {len(indexed)} 个文档 documents, {sum(r.chunks for r in indexed)} 个分块 chunks")
    return pd.DataFrame(rows, columns=DOC_COLUMNS), gr.update(choices=choices, value=None), summary


def delete_document(services, kb_name: str | None, doc_id: str | None):
    if not kb_name or not doc_id:
        gr.Warning("请先选择要删除的文档 Choose a document to delete first.")
    else:
        try:
            if services.store.get(kb_name).delete_document(doc_id):
                gr.Info("文档已删除 Document deleted.")
            else:
                gr.Warning(f"文档不存在 No such document: {doc_id}")
        except Exception as exc:
            gr.Warning(user_error(exc))
    return documents_view(services, kb_name)


def save_uploads(services, kb, paths: list[str]) -> tuple[list[tuple[Path, str]], list[list]]:
    """Copies Gradio's temp uploads into the uploads folder; returns (files to ingest, rejected rows)."""
    from app.api import safe_filename
    from ingest import SUPPORTED_EXTENSIONS, is_supported

    limit = services.settings.max_upload_mb * 2**20
    folder = services.uploads_dir / kb.id / uuid.uuid4().hex[:12]
    saved, rejected = [], []
    for tmp in paths:
        tmp = Path(tmp)
        name = safe_filename(tmp.name)
        if not is_supported(name):
            rejected.append([name, STATUS_ZH["failed"], 0,
                             f"不支持的文件类型 unsupported file type; supported: {', '.join(SUPPORTED_EXTENSIONS)}"])
        elif tmp.stat().st_size > limit:
            rejected.append([name, STATUS_ZH["failed"], 0,
                             f"文件过大 larger than the upload limit of {limit // 2**20} MB"])
        else:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / name
            if target.exists():
                target = target.with_name(f"{target.stem}-{uuid.uuid4().hex[:6]}{target.suffix}")
            shutil.copyfile(tmp, target)
            saved.append((target, name))
        tmp.unlink(missing_ok=True)  # Gradio's temp copy is no longer needed
    return saved, rejected


def _progress_md(job: dict) -> str:
    pct = int(job["progress"] * 100)
    bar = "█" * (pct // 5) + "░" * (20 - pct // 5)
    if job["status"] == "done":
        counts: dict[str, int] = {}
        for f in job["files"]:
            counts[f["status"]] = counts.get(f["status"], 0) + 1
        parts = ", ".join(f"{STATUS_ZH.get(k, k)}: {v}" for k, v in counts.items())
        return f"✅ 完成 Done — {parts}"
    return f"⏳ 索引中 Indexing… `{bar}` {pct}%"


def _job_rows(job: dict) -> list[list]:
    return [[f["source"], STATUS_ZH.get(f["status"], f["status"]), f["chunks"], f["error"] or ""] for f in job["files"]]


def upload(services, jobs, kb_name: str | None, paths: list[str] | None) -> Iterator[tuple]:
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
        kb = services.store.get(kb_name)
        saved, rejected = save_uploads(services, kb, paths)
    except Exception as exc:
        gr.Warning(user_error(exc))
        yield (f"⚠️ {user_error(exc)}", gr.update(), *keep, None)
        return
    if not saved:
        yield ("⚠️ 没有可索引的文件 Nothing to index.", pd.DataFrame(rejected, columns=JOB_COLUMNS), *keep, None)
        return
    job = jobs.submit(kb.name, saved)
    while True:
        state = job.as_dict()
        rows = _job_rows(state) + rejected
        if state["status"] == "done":
            table = pd.DataFrame(rows, columns=JOB_COLUMNS)
            yield (_progress_md(state), table, *documents_view(services, kb.name), None)
            return
        yield (_progress_md(state), pd.DataFrame(rows, columns=JOB_COLUMNS), *keep, None)
        time.sleep(POLL_S)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!])")


def _md_escape(text: str) -> str:
    """Quoted document text shown literally: no headings, links or HTML from inside a chunk."""
    return _MD_SPECIAL.sub(r"\\\1", text)


# --- chat --------------------------------------------------------------------------------------
def format_sources(citations) -> str:
    if not citations:
        return "*没有找到相关来源 No relevant sources.*"
    parts = []
    for c in citations:
        where = f"{c.source}, p.{c.page}" if c.page else c.source
        text = " ".join(c.text.split())
        if len(text) > QUOTE_CHARS:
            text = text[:QUOTE_CHARS] + "…"
        parts.append(f"**[{c.n}] {_md_escape(where)}**\n\n> {_md_escape(text)}")
    return "\n\n".join(parts)


def chat(services, question: str, history: list[dict], messages: list[dict], kb_name: str | None,
         provider: str | None, model: str | None, temperature: float, k: int) -> Iterator[tuple]:
    """Generator: yields (chatbot messages, history state, sources markdown, question box)."""
    from app.answering import build_chain

    question = (question or "").strip()
    messages = list(messages or [])
    if not question:
        yield messages, history, gr.update(), gr.update()
        return
    limit = services.settings.max_question_chars
    if len(question) > limit:
        gr.Warning(f"问题过长 The question is longer than {limit} characters.")
        yield messages, history, gr.update(), gr.update()
        return
    if not kb_name:
        gr.Warning("请先选择知识库 Choose a knowledge base first.")
        yield messages, history, gr.update(), gr.update()
        return
    messages += [{"role": "user", "content": question}, {"role": "assistant", "content": "⏳ 思考中 Thinking…"}]
    yield messages, history, gr.update(), ""
    answer, sources = "", NO_SOURCES
    try:
        chain = build_chain(services, kb_name, provider=provider or None, model=(model or "").strip() or None,
                            temperature=temperature, k=int(k) if k else None)
        for kind, payload in chain.stream(question, history):
            if kind == "reading":  # the model reads the sources before its first token
                messages[-1] = {"role": "assistant", "content": f"⏳ 正在阅读 {payload} 个来源 Reading {payload} sources…"}
                yield messages, history, gr.update(), gr.update()
            elif kind == "token":
                answer += payload
                messages[-1] = {"role": "assistant", "content": answer}
                yield messages, history, gr.update(), gr.update()
            elif kind == "citations":
                sources = format_sources(payload)
            elif kind == "answer":
                answer = payload.answer
    except Exception as exc:
        message = user_error(exc)
        gr.Warning(message)
        shown = (answer + "\n\n" if answer else "") + f"⚠️ 出错 Error: {message}"
        messages[-1] = {"role": "assistant", "content": shown}
        yield messages, history, gr.update(), gr.update()
        return
    messages[-1] = {"role": "assistant", "content": answer}
    history = [*history, {"role": "user", "content": question}, {"role": "assistant", "content": answer}][-20:]
    yield messages, history, sources, gr.update()
