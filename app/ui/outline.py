"""The documents tab's outline: the chosen document's chapters and sections with their pages; a
click on a row shows that section's digest and its first passage."""

import gradio as gr
import pandas as pd

from app.operations.errors import user_message

OUTLINE_COLUMNS = ["章节 Section", "页码 Pages", "#"]
OUTLINE_WIDTHS: list[str | int] = ["78%", "16%", "6%"]
NO_OUTLINE = "（该文档没有目录 This document has no outline）"


def pages_text(entry: dict) -> str:
    start, end = entry.get("page_start"), entry.get("page_end")
    if start is None:
        return ""
    return str(start) if end in (None, start) else f"{start}–{end}"


def outline_view(ops, kb_name: str | None, doc_id: str | None):
    """(the outline table, a note): one row per entry, indented by level."""
    empty = pd.DataFrame([], columns=OUTLINE_COLUMNS)
    if not kb_name or not doc_id:
        return empty, ""
    try:
        found = ops.sources.outline(kb_name, doc_id)
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        return empty, f"⚠️ {user_message(exc)}"
    rows = [
        ["\u3000" * (e["level"] - 1) + e["title"], pages_text(e), n]
        for n, e in enumerate(found["entries"])
    ]
    note = (
        f"**{found['source']}**: {len(rows)} 个条目 entries"
        if rows
        else f"**{found['source']}** {NO_OUTLINE}"
    )
    return pd.DataFrame(rows, columns=OUTLINE_COLUMNS), note


def open_entry(ops, kb_name: str | None, doc_id: str | None, evt: gr.SelectData) -> str:
    """The clicked section: its title, pages and digest, then its first passage."""
    row = evt.row_value or []
    if not kb_name or not doc_id or not row:
        return ""
    try:
        entries = ops.sources.outline(kb_name, doc_id)["entries"]
        entry = entries[int(row[-1])]
        passage = ops.sources.passage(kb_name, doc_id, entry["chunk_id"])
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        return f"⚠️ {user_message(exc)}"
    pages = pages_text(entry)
    head = f"### {entry['title']}" + (f" (p. {pages})" if pages else "")
    digest = f"> {entry['digest']}" if entry.get("digest") else ""
    return "\n\n".join(part for part in (head, digest, passage["text"]) if part)
