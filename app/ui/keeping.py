"""Keeping and moving a knowledge base from the page (Documents tab, "保存与迁移 Keep and move"):
export it as one archive to download, import an archive (checked whole, then a durable job), and
re-embed it with the configured embedding model (a durable job). The same operations as `kb export`
/ `kb import` and the REST routes."""

import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import gradio as gr

from app.operations import user_message
from app.ui.documents import POLL_S, progress_markdown


def build_keeping(ops, kb: gr.Dropdown) -> None:
    """The accordion and its events; call inside the Documents tab. ``kb``: the page's
    knowledge-base dropdown (refreshed after an import)."""
    with gr.Accordion("保存与迁移 Keep and move", open=False, elem_id="keeping"):
        gr.Markdown(
            "导出为一个归档文件，可在另一台机器上导入；更换嵌入模型后重新嵌入。 Export to one "
            "archive file to import elsewhere; re-embed after the embedding model changed."
        )
        with gr.Row():
            export = gr.Button("导出 Export", size="sm", elem_id="export-kb")
            reembed = gr.Button("重新嵌入 Re-embed", size="sm", elem_id="reembed-kb")
        exported = gr.File(label="归档 Archive", interactive=False, elem_id="exported")
        archive = gr.File(
            label="导入归档 Import an archive (.kb.zip)", file_types=[".zip"], elem_id="import-file"
        )
        with gr.Row():
            name = gr.Textbox(
                label="导入为 Import as (可选 optional)", max_lines=1, elem_id="import-name"
            )
            replace = gr.Checkbox(label="替换同名 Replace one of that name", value=False)
        start_import = gr.Button("导入 Import", size="sm", elem_id="import-btn")
        status = gr.Markdown(elem_id="keeping-status")
    export.click(partial(export_kb, ops), kb, [exported, status])
    reembed.click(partial(reembed_kb, ops), kb, status, concurrency_limit=None)
    start_import.click(
        partial(import_kb, ops), [archive, name, replace], [status, kb], concurrency_limit=None
    )


def export_kb(ops, kb_name: str | None) -> tuple:
    if not kb_name:
        return None, "⚠️ 请先选择知识库 Choose a knowledge base first."
    out = Path(tempfile.mkdtemp(prefix="kb-export-")) / f"{kb_name}.kb.zip"
    try:
        summary = ops.archives.export(kb_name, out)
    except Exception as exc:  # noqa: BLE001  shown to the user, nothing was changed
        return None, f"⚠️ {user_message(exc)}"
    size = summary.bytes / 2**20
    return str(out), (
        f"✅ 已导出 Exported {kb_name}: {summary.documents} 个文档 documents, "
        f"{summary.passages} 个片段 passages ({size:.1f} MB)"
    )


def reembed_kb(ops, kb_name: str | None) -> Iterator[str]:
    if not kb_name:
        yield "⚠️ 请先选择知识库 Choose a knowledge base first."
        return
    try:
        job = ops.kb_jobs.submit_reembed(kb_name)
    except Exception as exc:  # noqa: BLE001
        yield f"⚠️ {user_message(exc)}"
        return
    for line, _ in _follow(ops, job.id):
        yield line


def import_kb(ops, path: str | None, name: str, replace: bool) -> Iterator[tuple]:
    if not path:
        yield "⚠️ 请先选择归档文件 Choose an archive first.", gr.update()
        return
    try:
        with open(path, "rb") as stream:
            job = ops.kb_jobs.submit_import(Path(path).name, stream, name.strip() or None, replace)
    except Exception as exc:  # noqa: BLE001  a damaged archive or a taken name: nothing written
        yield f"⚠️ {user_message(exc)}", gr.update()
        return
    last = ("", False)
    for last in _follow(ops, job.id):
        yield last[0], gr.update()
    line, indexed = last
    if indexed:
        names = [info.name for info in ops.knowledge.list_kbs()]
        yield line, gr.update(choices=names, value=job.kb if job.kb in names else None)


def _follow(ops, job_id: str) -> Iterator[tuple[str, bool]]:
    """(progress line, finished and indexed) until the job ends."""
    while True:
        try:
            job = ops.knowledge.job(job_id)
        except Exception as exc:  # noqa: BLE001  the queue away for a moment: say so, keep polling
            yield f"⚠️ {user_message(exc)}", False
            time.sleep(POLL_S)
            continue
        state = job.as_dict()
        if state["status"] != "running":
            entry = state["files"][0]
            if entry["status"] == "indexed":
                yield progress_markdown(state, job.counts()), True
            else:
                yield f"⚠️ {entry['source']}: {entry['error'] or entry['status']}", False
            return
        yield progress_markdown(state, job.counts()), False
        time.sleep(POLL_S)
