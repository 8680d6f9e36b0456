"""Conversations kept in the browser (``gr.BrowserState``: the visitor's own localStorage, never the
server): a reload brings back the conversation and its knowledge base, and earlier conversations
stay listed and can be switched to. Each conversation belongs to one knowledge base.

The stored value: ``{"current": id | None, "chats": [{"id", "kb", "title", "messages",
"history"}]}``.
"""

import uuid
from typing import Any

import gradio as gr

STORAGE_KEY = "kb-assistant-conversations"
MAX_CHATS = 20
TITLE_CHARS = 30
NEW_TITLE = "新对话 New chat"


def empty() -> dict:
    return {"current": None, "chats": []}


def _valid(saved) -> dict:
    """What the browser sent, or an empty store when it is missing or of an older shape."""
    return saved if isinstance(saved, dict) and "chats" in saved else empty()


def _current(saved: dict) -> dict | None:
    return next((c for c in saved.get("chats", []) if c["id"] == saved.get("current")), None)


def _new(saved: dict, kb: str | None) -> dict:
    chat: dict[str, Any] = {
        "id": uuid.uuid4().hex[:12],
        "kb": kb,
        "title": NEW_TITLE,
        "messages": [],
        "history": [],
    }
    chats = [c for c in saved.get("chats", []) if c["messages"]]  # empty ones are not worth keeping
    return {"current": chat["id"], "chats": [chat, *chats][:MAX_CHATS]}


def picker(saved: dict):
    """The conversation list: newest first, each named by its first question and knowledge base."""
    choices = [(f"{c['title']} · {c['kb']}", c["id"]) for c in saved.get("chats", [])]
    return gr.update(choices=choices, value=saved.get("current"))


def restore(ops, saved: dict | None):
    """On page load: (knowledge-base dropdown, chatbot, history, conversation list, saved)."""
    from app.ui.handlers import kb_dropdown

    saved = _valid(saved)
    chat = _current(saved)
    kbs = kb_dropdown(ops, chat["kb"] if chat else None)
    kb = kbs.get("value") if isinstance(kbs, dict) else None
    if chat is None or chat["kb"] != kb:  # nothing saved, or its knowledge base is gone
        saved = _new(saved, kb)
        chat = _current(saved)
    assert chat is not None  # _new made it the current one
    return kbs, shown_messages(chat), chat["history"], picker(saved), saved


def on_kb_change(kb: str | None, saved: dict):
    """A different knowledge base continues its latest conversation, or starts one.
    Returns (chatbot, history, conversation list, saved); unchanged when the conversation is already
    its."""
    saved = _valid(saved)
    chat = _current(saved)
    if chat is not None and chat["kb"] == kb:
        return gr.update(), gr.update(), gr.update(), saved
    latest = next((c for c in saved["chats"] if c["kb"] == kb), None)
    saved = {**saved, "current": latest["id"]} if latest else _new(saved, kb)
    chat = _current(saved)
    assert chat is not None  # the latest one, or the new one
    return shown_messages(chat), chat["history"], picker(saved), saved


def new_chat(kb: str | None, saved: dict):
    """Returns (chatbot, history, conversation list, saved)."""
    saved = _new(_valid(saved), kb)
    return [], [], picker(saved), saved


def switch(chat_id: str | None, saved: dict):
    """Returns (knowledge-base value, chatbot, history, saved) of the chosen conversation."""
    chat = next((c for c in saved.get("chats", []) if c["id"] == chat_id), None)
    if chat is None:
        return gr.update(), gr.update(), gr.update(), saved
    return chat["kb"], shown_messages(chat), chat["history"], {**saved, "current": chat_id}


def remember(kb: str | None, messages: list, history: list, saved: dict, cited: list | None = None):
    """After an answer (or Clear): the current conversation stored as shown, the latest answer's
    citations (``cited``) kept under its message's index. Returns (saved, list)."""
    saved = _valid(saved)
    if _current(saved) is None:
        saved = _new(saved, kb)
    messages = [_stored(m) for m in messages or []]
    chats = []
    for chat in saved["chats"]:
        if chat["id"] == saved["current"]:
            citations = _citations(chat, messages, cited)
            first = next((m["content"] for m in messages if m["role"] == "user"), "")
            title = (
                first[:TITLE_CHARS] + ("…" if len(first) > TITLE_CHARS else "")
                if first
                else NEW_TITLE
            )
            chat = {
                **chat,
                "kb": kb,
                "title": title,
                "messages": messages,
                "history": history,
                "citations": citations,
            }
        chats.append(chat)
    saved = {**saved, "chats": chats}
    return saved, picker(saved)


def _citations(chat: dict, messages: list[dict], cited: list | None) -> dict:
    """{message index: its citations} for the messages still shown, the last answer's updated."""
    kept = {k: v for k, v in (chat.get("citations") or {}).items() if int(k) < len(messages)}
    if cited and messages and messages[-1]["role"] == "assistant":
        kept[str(len(messages) - 1)] = cited
    return kept


def _stored(message: dict) -> dict:
    """A chatbot message as kept: role, text, and an answer's id (for a 👍/👎 after a reload)."""
    out = {"role": message.get("role", "user"), "content": text_of(message.get("content"))}
    answer_id = (message.get("metadata") or {}).get("id")
    if answer_id:
        out["metadata"] = {"id": answer_id}
    return out


def sources_of(saved: dict | None):
    """The current conversation's last answer's sources, as the chat shows them after an answer:
    (sources markdown, cited, source list, page image, passage HTML). What a reload or a switch
    of conversation brings back."""
    from app.ui import chat as talk
    from app.ui import source_view

    chat = _current(_valid(saved))
    citations = (chat or {}).get("citations") or {}
    messages = (chat or {}).get("messages") or []
    last = str(len(messages) - 1)
    cited = citations.get(last) if messages and messages[-1]["role"] == "assistant" else None
    if not cited:
        return (
            talk.NO_SOURCES,
            [],
            source_view.source_picker([]),
            gr.update(value=None, visible=False),
            "",
        )
    return (
        talk.format_sources(cited),
        cited,
        source_view.source_picker(cited),
        gr.update(value=None, visible=False),
        "",
    )


def shown_messages(chat: dict) -> list:
    """The stored messages with the last answer's [n] as links to its sources again."""
    from app.ui import chat as talk

    messages = list(chat.get("messages") or [])
    cited = (chat.get("citations") or {}).get(str(len(messages) - 1))
    if cited and messages and messages[-1]["role"] == "assistant":
        last = messages[-1]
        messages[-1] = {**last, "content": talk.linked(last["content"], cited)}
    return messages


def text_of(content) -> str:
    """A chatbot message's text: Gradio hands messages back with their content as a list of
    parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return "" if content is None else str(content)
