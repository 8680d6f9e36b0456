"""The Gradio web UI (mounted at /ui by app.web.server): knowledge bases, uploads, documents, cited
chat.

Layout only; what the buttons do lives in app.ui.handlers. Chat history is per browser session
(gr.State), never module state.
"""

from functools import partial

import gradio as gr

from app.ui import conversations as conv
from app.ui import documents as docs
from app.ui import handlers as act
from app.ui import outline
from app.ui.chat_tab import build_chat_tab, wire_chat
from app.ui.export_chat import export_current
from app.ui.feedback import build_feedback_list
from app.ui.keeping import build_keeping
from app.ui.passages import build_passages, open_cited
from app.ui.retrieval_test import build_retrieval_test

# the question appears below the table: bring it into view
SHOW_CONFIRMATION_JS = (
    "() => document.getElementById('confirm-delete')?.scrollIntoView({block: 'center'})"
)
INTRO = (
    "# 知识库助手 Knowledge-base assistant\n"
    "上传文档，然后提问；回答会注明出处。 Upload documents, then ask; answers cite file and page."
)


def build_ui(ops) -> gr.Blocks:
    from llm_backends import PROVIDERS

    s = ops.settings
    with gr.Blocks(title="知识库助手 kb-assistant", analytics_enabled=False) as demo:
        history = gr.State([])  # [{"role", "content": str}] sent to the chain, per session
        cited = gr.State([])  # the last answer's citations (dicts), for the source preview
        # conversations in the visitor's own browser (localStorage); the key only scrambles them at
        # rest
        saved = gr.BrowserState(
            conv.empty(), storage_key=conv.STORAGE_KEY, secret="kb-assistant-ui"
        )
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            # --- left: knowledge base + settings ---------------------------------------------
            with gr.Column(scale=1, min_width=280):
                kb = gr.Dropdown(
                    label="知识库 Knowledge base",
                    choices=[],
                    value=None,
                    interactive=True,
                    elem_id="kb-select",
                )
                kb_summary = gr.Markdown(elem_id="kb-summary")
                refresh_kbs = gr.Button("刷新 Refresh", size="sm")
                with gr.Group():
                    conversations = gr.Dropdown(
                        label="对话 Conversations", choices=[], value=None, elem_id="conversations"
                    )
                    new_conversation = gr.Button("新对话 New chat", size="sm", elem_id="new-chat")
                    export_chat = gr.Button(
                        "导出对话 Export (Markdown, JSON)", size="sm", elem_id="export-chat"
                    )
                    exported_chat = gr.File(
                        label="导出 Exported",
                        file_count="multiple",
                        visible=False,
                        elem_id="exported-chat",
                    )
                with gr.Group():
                    new_kb = gr.Textbox(
                        label="新知识库名称 New knowledge base",
                        placeholder="例如 e.g. 产品手册",
                        max_lines=1,
                        elem_id="new-kb",
                    )
                    create = gr.Button("新建 Create", variant="secondary", elem_id="create-kb")
                with gr.Accordion("设置 Settings", open=False):
                    provider = gr.Dropdown(
                        label="模型提供方 Provider", choices=list(PROVIDERS), value=s.llm_provider
                    )
                    model = gr.Textbox(
                        label="模型 Model (可选 optional)",
                        value=s.llm_model or "",
                        max_lines=1,
                        placeholder="留空使用默认 blank = provider default",
                    )
                    temperature = gr.Slider(
                        0.0, 1.0, value=s.llm_temperature, step=0.05, label="温度 Temperature"
                    )
                    k = gr.Slider(
                        1, 20, value=s.search_k, step=1, label="检索片段数 Passages retrieved (k)"
                    )

            # --- right: chat / documents ------------------------------------------------------
            with gr.Column(scale=3):
                with gr.Tabs() as tabs:
                    c = build_chat_tab(
                        ops, kb, [provider, model, temperature, k], history, cited, saved
                    )
                    c.conversations = conversations
                    with gr.Tab("文档 Documents", id="docs"):
                        files = gr.File(
                            label="上传文件 Upload files", file_count="multiple", elem_id="upload"
                        )
                        upload = gr.Button(
                            "上传并索引 Upload and index", variant="primary", elem_id="upload-btn"
                        )
                        cancel_upload = gr.Button(
                            "取消索引 Cancel indexing", size="sm", elem_id="cancel-upload"
                        )
                        progress = gr.Markdown(elem_id="job-progress")
                        job_table = gr.Dataframe(
                            headers=docs.JOB_COLUMNS,
                            label="本次上传 This upload",
                            interactive=False,
                            wrap=True,
                            column_widths=docs.JOB_WIDTHS,
                            elem_id="job-table",
                        )
                        docs_table = gr.Dataframe(
                            headers=docs.DOC_COLUMNS,
                            label="文档列表 Documents (点击表头排序 click a header to sort)",
                            interactive=False,
                            wrap=True,
                            column_widths=docs.DOC_WIDTHS,
                            datatype=docs.DOC_TYPES,
                            elem_id="docs-table",
                        )
                        with gr.Row():
                            doc_pick = gr.Dropdown(
                                label="选择文档 Document",
                                choices=[],
                                value=None,
                                scale=3,
                                elem_id="doc-pick",
                            )
                            refresh_docs = gr.Button("刷新 Refresh", scale=1)
                            delete = gr.Button(
                                "删除所选 Delete selected",
                                variant="stop",
                                scale=1,
                                elem_id="delete-doc",
                            )
                        with gr.Row(visible=False, elem_id="confirm-delete") as confirm_row:
                            confirm_text = gr.Markdown()
                            confirm = gr.Button(
                                "确认删除 Delete", variant="stop", elem_id="confirm-delete-btn"
                            )
                            cancel = gr.Button("取消 Cancel", elem_id="cancel-delete-btn")
                        build_keeping(ops, kb)
                        passage_panel = build_passages(ops, kb, doc_pick)
                        build_feedback_list(ops, kb)
                        outline_note = gr.Markdown(elem_id="outline-note")
                        with gr.Row():
                            outline_table = gr.Dataframe(
                                headers=outline.OUTLINE_COLUMNS,
                                label="目录 Outline (点击打开 click to open)",
                                interactive=False,
                                wrap=True,
                                column_widths=outline.OUTLINE_WIDTHS,
                                elem_id="outline-table",
                            )
                            outline_passage = gr.Markdown(elem_id="outline-passage")
                    build_retrieval_test(ops, kb)

        # --- events ---------------------------------------------------------------------------
        docs_out = [docs_table, doc_pick, kb_summary]
        show_docs = partial(docs.documents_view, ops)
        filter_choices = partial(docs.filter_choices, ops)
        # the knowledge base and the conversation come back from the browser on load
        loaded = demo.load(
            partial(conv.restore, ops), saved, [kb, c.chatbot, history, conversations, saved]
        )
        loaded.then(show_docs, kb, docs_out)
        refresh_kbs.click(partial(act.kb_dropdown, ops), kb, kb).then(show_docs, kb, docs_out)
        kb.change(show_docs, kb, docs_out)
        kb.change(filter_choices, kb, c.doc_filter)
        create.click(partial(act.create_kb, ops), new_kb, [kb, new_kb])
        new_kb.submit(partial(act.create_kb, ops), new_kb, [kb, new_kb])

        export_chat.click(
            lambda saved: gr.update(value=export_current(saved), visible=True), saved, exported_chat
        )
        refresh_docs.click(show_docs, kb, docs_out).then(filter_choices, kb, c.doc_filter)
        delete.click(
            partial(docs.ask_to_delete, ops), [kb, doc_pick], [confirm_row, confirm_text]
        ).then(None, js=SHOW_CONFIRMATION_JS)
        confirm.click(
            partial(docs.delete_document, ops), [kb, doc_pick], [*docs_out, confirm_row]
        ).then(filter_choices, kb, c.doc_filter)
        cancel.click(lambda: gr.update(visible=False), None, confirm_row)

        # Gradio finds SelectData by annotation, not through partial
        def pick_row(kb_name, evt: gr.SelectData):
            return docs.pick_row(ops, kb_name, evt)

        docs_table.select(pick_row, kb, doc_pick)
        doc_pick.change(
            partial(outline.outline_view, ops), [kb, doc_pick], [outline_table, outline_note]
        )

        def open_entry(kb_name, doc_id, evt: gr.SelectData):
            return outline.open_entry(ops, kb_name, doc_id, evt)

        outline_table.select(open_entry, [kb, doc_pick], outline_passage)
        # a cited passage opens among its document's passages, ready to correct
        c.open_passage.click(
            partial(open_cited, ops),
            [kb, c.cited, c.source_pick],
            [tabs, doc_pick, *passage_panel],
        )
        cancel_upload.click(partial(docs.cancel_indexing, ops), kb, progress)
        upload.click(
            partial(docs.upload, ops),
            [kb, files],
            [progress, job_table, *docs_out, files],
            concurrency_limit=None,
        ).then(filter_choices, kb, c.doc_filter)

        wire_chat(ops, c, loaded, new_conversation)
    return demo
