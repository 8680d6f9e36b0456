"""👍/👎 on the chat's answers, and the rated answers listed and exported (Documents tab, "反馈
Feedback"). A 👎 opens a short form for what was wrong and the right answer. Each answer's
``answer_id`` rides in its chat message (app/ui/chat.py). The same as POST /feedback and
`kb feedback`."""

import json
import tempfile
from functools import partial
from pathlib import Path

import gradio as gr
import pandas as pd

from app.operations import user_message

FEEDBACK_COLUMNS = ["评价 Rating", "问题 Question", "回答 Answer", "正确答案 Right answer"]


def answer_id_at(messages: list, index) -> str:
    """The answer_id of the chat message at ``index`` ("" when it has none)."""
    at = index[0] if isinstance(index, (list, tuple)) else index
    try:
        message = messages[int(at)]
    except (IndexError, TypeError, ValueError):
        return ""
    return str(((message or {}).get("metadata") or {}).get("id") or "")


def on_like(ops, kb_name, messages, evt: gr.LikeData):
    """👍: stored at once. 👎: the form opens for it. (form update, pending answer id)."""
    answer_id = answer_id_at(messages, evt.index)
    if not answer_id or not kb_name:
        gr.Warning("这条回答无法评价 This answer cannot be rated (asked before ratings existed).")
        return gr.update(visible=False), ""
    if evt.liked is True or evt.liked == "Like":
        try:
            ops.feedback.rate(answer_id, kb_name, "up")
            gr.Info("谢谢！已记录 Thanks: noted.")
        except Exception as exc:  # noqa: BLE001  shown, never raised into the page
            gr.Warning(user_message(exc))
        return gr.update(visible=False), ""
    return gr.update(visible=True), answer_id


def send_down(ops, kb_name, answer_id, reason, correct):
    """The 👎 with its reason and correction; (form update, reason, correction, pending)."""
    try:
        ops.feedback.rate(answer_id, kb_name, "down", reason or None, correct or None)
        gr.Info("谢谢！已记录 Thanks: noted.")
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        gr.Warning(user_message(exc))
        return gr.update(), reason, correct, answer_id
    return gr.update(visible=False), "", "", ""


def build_feedback_form(ops, kb: gr.Dropdown, chatbot: gr.Chatbot) -> None:
    """The 👎 form under the chat, and the chatbot's like event; call in the chat column."""
    pending = gr.State("")
    with gr.Group(visible=False, elem_id="feedback-form") as form:
        reason = gr.Textbox(label="哪里不对 What was wrong", max_lines=3, elem_id="feedback-reason")
        correct = gr.Textbox(
            label="正确答案 The right answer (可选 optional)",
            max_lines=3,
            elem_id="feedback-correct",
        )
        send = gr.Button("提交 Send", size="sm", elem_id="feedback-send")

    def like(kb_name, messages, evt: gr.LikeData):  # Gradio finds LikeData by annotation
        return on_like(ops, kb_name, messages, evt)

    chatbot.like(like, [kb, chatbot], [form, pending])
    send.click(
        partial(send_down, ops), [kb, pending, reason, correct], [form, reason, correct, pending]
    )


def feedback_view(ops, kb_name):
    empty = pd.DataFrame([], columns=FEEDBACK_COLUMNS)
    if not kb_name:
        return empty
    try:
        rated = ops.feedback.listed(kb_name, 200)
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        gr.Warning(user_message(exc))
        return empty
    rows = [
        [
            "👍" if r["rating"] == "up" else "👎",
            r["question"],
            r["answer"],
            r["correct_answer"] or "",
        ]
        for r in rated
    ]
    return pd.DataFrame(rows, columns=FEEDBACK_COLUMNS)


def export_feedback(ops, kb_name):
    """The ratings as a QA set for `kb eval` (a file to download) and a note."""
    from app.operations.feedback import as_qa_items

    if not kb_name:
        return None, "⚠️ 请先选择知识库 Choose a knowledge base first."
    items, skipped = as_qa_items(ops.feedback.listed(kb_name, 100_000))
    if not items:
        return (
            None,
            f"还没有可导出的评价 No ratings with a gold answer yet ({skipped} without one).",
        )
    out = Path(tempfile.mkdtemp(prefix="kb-feedback-")) / f"{kb_name}-feedback.jsonl"
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    return str(out), f"{len(items)} 个问题 questions: `kb eval {out.name} --kb {kb_name}`"


def build_feedback_list(ops, kb: gr.Dropdown) -> None:
    """The rated answers and their export; call inside the Documents tab."""
    with gr.Accordion("反馈 Feedback: 评价过的回答 rated answers", open=False, elem_id="feedback"):
        table = gr.Dataframe(
            headers=FEEDBACK_COLUMNS, interactive=False, wrap=True, elem_id="feedback-table"
        )
        with gr.Row():
            refresh = gr.Button("刷新 Refresh", size="sm", elem_id="feedback-refresh")
            export = gr.Button(
                "导出为测试集 Export as a test set", size="sm", elem_id="feedback-export"
            )
        exported = gr.File(
            label="测试集 Test set (JSONL)", interactive=False, elem_id="feedback-file"
        )
        note = gr.Markdown(elem_id="feedback-note")
    show = partial(feedback_view, ops)
    refresh.click(show, kb, table)
    kb.change(show, kb, table)
    export.click(partial(export_feedback, ops), kb, [exported, note])
