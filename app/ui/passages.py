"""The Documents tab's passages ("段落 Passages"): the chosen document's passages in indexed order
with their marks, a search inside them; a click opens one to edit its text (embedded again),
disable or enable it, undo an edit, or remove it when it was added by hand; and a passage written
by hand added to the document. The same operations as REST /kbs/{kb}/passages and `kb passage`."""

from functools import partial

import gradio as gr
import pandas as pd

from app.operations import user_message

PASSAGE_COLUMNS = ["#", "页 Page", "标记 Marks", "内容 Text", "id"]
PASSAGE_WIDTHS: list[str | int] = ["5%", "7%", "12%", "62%", "14%"]
_SHOWN = 500  # rows in the table; the search box narrows a longer document


def marks(item: dict) -> str:
    return " ".join(
        m
        for m, on in (
            ("🚫 停用 disabled", not item["enabled"]),
            ("✏️ 已改 edited", item["edited"]),
            ("➕ 手加 added", item["manual"]),
        )
        if on
    )


def passages_view(ops, kb_name: str | None, doc_id: str | None, query: str = ""):
    """(the table, a note)."""
    empty = pd.DataFrame([], columns=PASSAGE_COLUMNS)
    if not kb_name or not doc_id:
        return empty, ""
    try:
        found = ops.passages.list(kb_name, doc_id, 0, _SHOWN, query or "")
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        return empty, f"⚠️ {user_message(exc)}"
    rows = [
        [
            "" if i["index"] is None else i["index"],
            "" if i["page"] is None else i["page"],
            marks(i),
            i["text"],
            i["chunk_id"],
        ]
        for i in found["items"]
    ]
    more = f"，显示前 {_SHOWN} showing the first {_SHOWN}" if found["total"] > _SHOWN else ""
    held = f" holding '{query}'" if query else ""
    note = f"**{found['source']}**: {found['total']} 个段落 passages{held}{more}"
    return pd.DataFrame(rows, columns=PASSAGE_COLUMNS), note


def open_passage(evt: gr.SelectData):
    """The clicked row into the editor: (chunk id, its text)."""
    row = evt.row_value or []
    if len(row) < len(PASSAGE_COLUMNS):
        return "", ""
    return row[-1], row[3]


# each button: what it does (returning the passage id it names) and what it then says
_CHANGES: dict[str, tuple] = {
    "save": (
        lambda ops, kb, cid, text: ops.passages.change(kb, cid, text=text)["chunk_id"],
        "✅ 已保存 Saved",
    ),
    "disable": (
        lambda ops, kb, cid, _: ops.passages.change(kb, cid, enabled=False)["chunk_id"],
        "🚫 已停用 Disabled",
    ),
    "enable": (
        lambda ops, kb, cid, _: ops.passages.change(kb, cid, enabled=True)["chunk_id"],
        "✅ 已启用 Enabled",
    ),
    "undo": (lambda ops, kb, cid, _: ops.passages.undo(kb, cid)["chunk_id"], "↩️ 已撤销 Undone"),
    "remove": (lambda ops, kb, cid, _: ops.passages.remove(kb, cid) or cid, "🗑️ 已删除 Removed"),
    # ``cid`` is the chosen document here: the new passage joins it
    "add": (
        lambda ops, kb, doc_id, text: ops.passages.add(kb, text, doc_id or None)["chunk_id"],
        "➕ 已添加 Added",
    ),
}


def _apply(ops, name: str, kb_name, doc_id, query, target, text):
    """Run the change ``name`` on ``target`` (a passage id, or for "add" the document); (table,
    note, status line)."""
    change, said = _CHANGES[name]
    if not kb_name:
        status = "⚠️ 请先选择知识库 Choose a knowledge base."
    else:
        try:
            status = f"{said} {change(ops, kb_name, target, text)}"
        except Exception as exc:  # noqa: BLE001  shown, never raised into the page
            status = f"⚠️ {user_message(exc)}"
    return *passages_view(ops, kb_name, doc_id, query), status


def open_cited(ops, kb_name, cited: list[dict], pick):
    """A citation opened among its document's passages (the chat's "Open in passages"): (tabs,
    document choice, accordion, passage id, its text)."""
    keep = (gr.update(),) * 5
    if pick is None or not kb_name or not cited or not 0 <= int(pick) < len(cited):
        return keep
    c = cited[int(pick)]
    try:
        found = ops.sources.passage(kb_name, c["doc_id"], c["chunk_id"])
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        gr.Warning(user_message(exc))
        return keep
    return (
        gr.Tabs(selected="docs"),
        gr.update(value=c["doc_id"]),
        gr.Accordion(open=True),
        c["chunk_id"],
        found["text"],
    )


def build_passages(ops, kb: gr.Dropdown, doc_pick: gr.Dropdown) -> tuple:
    """The accordion and its events; call inside the Documents tab. Returns (accordion, passage
    id box, text box), what a citation opens."""
    with gr.Accordion(
        "段落 Passages: 查看与更正 see and correct", open=False, elem_id="passages"
    ) as panel:
        find = gr.Textbox(
            label="在段落中查找 Find in the passages",
            max_lines=1,
            elem_id="passage-find",
        )
        note = gr.Markdown(elem_id="passages-note")
        table = gr.Dataframe(
            headers=PASSAGE_COLUMNS,
            interactive=False,
            wrap=True,
            column_widths=PASSAGE_WIDTHS,
            elem_id="passages-table",
        )
        chunk = gr.Textbox(label="段落 id Passage id", interactive=False, elem_id="passage-id")
        text = gr.Textbox(label="内容 Text", lines=5, elem_id="passage-text")
        with gr.Row():
            save = gr.Button("保存修改 Save edit", size="sm", elem_id="passage-save")
            disable = gr.Button("停用 Disable", size="sm", elem_id="passage-disable")
            enable = gr.Button("启用 Enable", size="sm", elem_id="passage-enable")
            undo = gr.Button("撤销修改 Undo edit", size="sm", elem_id="passage-undo")
            remove = gr.Button("删除手加段落 Remove (added by hand)", size="sm")
        added = gr.Textbox(
            label="手动添加段落 Add a passage by hand (例如问答 e.g. a Q&A note)",
            lines=3,
            elem_id="passage-new",
        )
        add = gr.Button("添加到此文档 Add to this document", size="sm", elem_id="passage-add")
        status = gr.Markdown(elem_id="passage-status")

    show = partial(passages_view, ops)
    view_in, view_out = [kb, doc_pick, find], [table, note]
    doc_pick.change(show, view_in, view_out)
    find.submit(show, view_in, view_out)
    table.select(open_passage, None, [chunk, text])
    out = [table, note, status]
    buttons = {"save": save, "disable": disable, "enable": enable, "undo": undo, "remove": remove}
    for name, button in buttons.items():
        button.click(partial(_apply, ops, name), [kb, doc_pick, find, chunk, text], out)
    add.click(partial(_apply, ops, "add"), [kb, doc_pick, find, doc_pick, added], out)
    return panel, chunk, text
