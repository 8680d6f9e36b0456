"""Continue an answer the model cut at its length cap: the last question asked again with twice
the cap, its answer in place of the cut one (at temperature 0 it starts the same way and goes on).
The Continue button shows only after a cut answer."""

import gradio as gr

from app.ui import chat as talk
from app.ui.conversations import text_of

MAX_CAP = 2048  # tokens: the longest an answer may grow to by pressing Continue


def was_cut(messages: list | None) -> bool:
    last = (messages or [])[-1:] or [{}]
    text = text_of(last[0].get("content")).rstrip()
    return last[0].get("role") == "assistant" and text.endswith(talk.CUT_NOTICE.strip()[-30:])


def show_continue(messages: list | None):
    return gr.update(visible=was_cut(messages))


def continue_last(ops, history, messages, kb_name, provider, model, temperature, k, doc_ids):
    """Generator with ``talk.chat``'s outputs: the last turn answered again, longer."""
    messages, history = list(messages or []), list(history or [])
    if not was_cut(messages) or len(messages) < 2 or messages[-2].get("role") != "user":
        yield messages, history, gr.update(), gr.update(), gr.update(), gr.update()
        return
    question = text_of(messages[-2].get("content"))
    cap = ops.answers.length_cap(provider or None, (model or "").strip() or None)
    yield from talk.chat(
        ops,
        question,
        history[:-2],
        messages[:-2],
        kb_name,
        provider,
        model,
        temperature,
        k,
        doc_ids,
        max_tokens=min(MAX_CAP, 2 * cap),
    )
