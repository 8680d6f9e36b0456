"""The cited source beside the chat: the list of an answer's sources, and the picked one shown as
its passage in the surrounding text (the sentence that supports the answer marked) and, for a PDF,
its page drawn with the passage highlighted."""

import html
import io

import gradio as gr

from answering import reflow_formula_lines as reflow
from app.operations.errors import user_message
from app.ui.markdown_text import readable

CONTEXT_CHARS = 300  # text shown around a passage, each side


def source_picker(cited: list[dict]):
    """The list of the answer's sources; the first one selected, so its page shows at once."""
    choices = [(_where(c), i) for i, c in enumerate(cited)]
    return gr.update(choices=choices, value=0 if choices else None, visible=bool(choices))


def show_source(ops, kb_name: str | None, cited: list[dict], pick: int | None):
    """Returns (page image update, passage HTML) for the picked citation."""
    if pick is None or not kb_name or not cited or not 0 <= int(pick) < len(cited):
        return gr.update(value=None, visible=False), ""
    c = cited[int(pick)]
    try:
        passage = ops.sources.passage(kb_name, c["doc_id"], c["chunk_id"])
        image = None
        if c.get("page") and c["source"].lower().endswith(".pdf"):
            from PIL import Image

            preview = ops.sources.page_preview(
                kb_name, c["doc_id"], int(c["page"]), c["chunk_id"], c.get("support", "")
            )
            image = Image.open(io.BytesIO(preview.png))
    except Exception as exc:  # the document was deleted since, or its original was not kept
        return (
            gr.update(value=None, visible=False),
            f"<p class='kb-passage-missing'>⚠️ {html.escape(user_message(exc))}</p>",
        )
    return gr.update(value=image, visible=image is not None), passage_html(c, passage)


def passage_html(citation: dict, passage: dict) -> str:
    source = citation.get("source") or ""
    before = readable(reflow(passage["before"]), source)[-CONTEXT_CHARS:]
    after = readable(reflow(passage["after"]), source)[:CONTEXT_CHARS]
    body = (
        ("…" if len(passage["before"]) > CONTEXT_CHARS else "")
        + html.escape(before)
        + f"<mark>{supported(readable(reflow(passage['text']), source), citation)}</mark>"
        + html.escape(after)
        + ("…" if len(passage["after"]) > CONTEXT_CHARS else "")
    )
    return (
        f"<div class='kb-passage'><b>{html.escape(_where(citation))}</b><div style='white-space:"
        f" pre-wrap; max-height: 320px; overflow-y: auto'>{body}</div></div>"
    )


def supported(text: str, citation: dict) -> str:
    """The passage as HTML with its sentence closest to the answer marked (when found in it)."""
    support = (citation.get("support") or "").strip()
    at = text.find(support) if support else -1
    if at < 0:
        return html.escape(text)
    end = at + len(support)
    return (
        html.escape(text[:at])
        + f"<b class='kb-support' title='支持回答的句子 the sentence that supports the answer'>"
        f"<u>{html.escape(text[at:end])}</u></b>" + html.escape(text[end:])
    )


def _where(c: dict) -> str:
    return f"[{c['n']}] {c['source']}" + (f", p.{c['page']}" if c.get("page") else "")
