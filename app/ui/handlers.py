"""What the knowledge-base controls do: plain functions over the operations (``app.operations``), no
layout.

Every user-facing failure becomes a short message (gr.Warning or a line in the chat); stack traces
go to the log only. Per-user state (chat history, the last job) lives in the caller's gr.State.
Documents and uploads: ``app.ui.documents``; the chat: ``app.ui.chat``.
"""

import gradio as gr

from app.operations.errors import user_message


# --- knowledge bases ---------------------------------------------------------------------------
def kb_choices(ops) -> list[tuple[str, str]]:
    # counts live in the summary line, never stale
    return [(i.name, i.name) for i in ops.knowledge.list_kbs()]


def kb_dropdown(ops, preferred: str | None = None):
    """The knowledge-base dropdown, refreshed; keeps `preferred` when it still exists."""
    try:
        choices = kb_choices(ops)
    except Exception as exc:
        gr.Warning(f"无法读取知识库列表 Cannot list knowledge bases: {user_message(exc)}")
        return gr.update()
    names = [value for _, value in choices]
    default = ops.knowledge.default_kb
    value = (
        preferred
        if preferred in names
        else (default if default in names else (names[0] if names else None))
    )
    return gr.update(choices=choices, value=value)


def create_kb(ops, name: str):
    """Returns (dropdown update, new-name textbox value)."""
    try:
        kb = ops.knowledge.create(name or "")
    except Exception as exc:
        gr.Warning(f"无法创建知识库 Cannot create knowledge base: {user_message(exc)}")
        return gr.update(), name
    gr.Info(f"已创建知识库 Created knowledge base '{kb.name}'")
    return kb_dropdown(ops, kb.name), ""
