"""The Chat tab: the conversation, the question, Send / Clear / Continue, the documents to ask in,
the 👎 form, and the Sources panel with the cited page. Its events: ask (Send or Enter), Continue
after a cut answer, Clear, and what follows each answer (its first source shown, the Continue
button shown or hidden, the conversation kept in the browser)."""

from dataclasses import dataclass
from functools import partial

import gradio as gr

from app.ui import chat as talk
from app.ui import conversations as conv
from app.ui import source_view
from app.ui.continue_answer import continue_last, show_continue
from app.ui.feedback import build_feedback_form


@dataclass
class ChatParts:
    question: gr.Textbox
    history: gr.State
    chatbot: gr.Chatbot
    kb: gr.Dropdown
    provider: gr.Dropdown
    model: gr.Textbox
    temperature: gr.Slider
    k: gr.Slider
    doc_filter: gr.Dropdown
    sources: gr.Markdown
    cited: gr.State
    source_pick: gr.Radio
    source_page: gr.Image
    source_passage: gr.HTML
    saved: gr.BrowserState
    send: gr.Button
    clear: gr.Button
    go_on: gr.Button  # Continue
    open_passage: gr.Button  # the shown citation among its document's passages
    conversations: gr.Dropdown | None = None  # the left column's, set by the layout


def build_chat_tab(ops, kb, settings: list, history, cited, saved) -> ChatParts:
    """The tab's components; ``settings``: the provider, model, temperature and k controls."""
    with gr.Tab("问答 Chat", id="chat"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="对话 Conversation",
                    height=460,
                    elem_id="chatbot",
                    buttons=["copy"],
                    feedback_options=("Like", "Dislike"),
                    placeholder="向知识库提问 Ask the knowledge base a question",
                )
                question = gr.Textbox(
                    label="问题 Question",
                    placeholder="输入问题后按回车 Type and press Enter",
                    max_lines=4,
                    elem_id="question",
                )
                with gr.Row():
                    send = gr.Button("发送 Send", variant="primary", elem_id="send")
                    clear = gr.Button("清空 Clear", elem_id="clear")
                    go_on = gr.Button("继续 Continue", visible=False, elem_id="continue")
                doc_filter = gr.Dropdown(
                    label="只在这些文档中查找 Only in these documents (可选 optional)",
                    choices=[],
                    value=[],
                    multiselect=True,
                    elem_id="doc-filter",
                )
                build_feedback_form(ops, kb, chatbot)
            with gr.Column(scale=2, min_width=260):
                gr.Markdown("### 来源 Sources")
                sources = gr.Markdown(talk.NO_SOURCES, elem_id="sources")
                source_pick = gr.Radio(
                    label="查看原文 Show the source",
                    choices=[],
                    visible=False,
                    elem_id="source-pick",
                )
                source_passage = gr.HTML(elem_id="source-passage")
                open_passage = gr.Button(
                    "在段落中打开 Open in passages", size="sm", elem_id="open-in-passages"
                )
                source_page = gr.Image(
                    label="原文页面 The cited page",
                    visible=False,
                    interactive=False,
                    type="pil",
                    elem_id="source-page",
                    buttons=["fullscreen"],
                )
    provider, model, temperature, k = settings
    return ChatParts(
        question,
        history,
        chatbot,
        kb,
        provider,
        model,
        temperature,
        k,
        doc_filter,
        sources,
        cited,
        source_pick,
        source_page,
        source_passage,
        saved,
        send,
        clear,
        go_on,
        open_passage,
    )


def wire_chat(ops, c: ChatParts, loaded, new_chat: gr.Button) -> None:
    """``loaded``: the page's load event (the stored conversation restored); ``new_chat``: the
    left column's New chat button."""
    conversations = c.conversations
    assert conversations is not None, "the layout sets the conversation list"
    remember_out = [c.saved, conversations]
    settings = [c.kb, c.provider, c.model, c.temperature, c.k, c.doc_filter]
    chat_in = [c.question, c.history, c.chatbot, *settings]
    chat_out = [c.chatbot, c.history, c.sources, c.question, c.cited, c.source_pick]
    show_source = partial(source_view.show_source, ops)
    preview_in, preview_out = [c.kb, c.cited, c.source_pick], [c.source_page, c.source_passage]
    remember_in = [c.kb, c.chatbot, c.history, c.saved, c.cited]
    shown = [c.sources, c.cited, c.source_pick, c.source_page, c.source_passage]
    no_sources: tuple = (
        talk.NO_SOURCES,
        [],
        source_view.source_picker([]),
        gr.update(value=None, visible=False),
        "",
    )
    answers = [
        (trigger, partial(talk.chat, ops), chat_in) for trigger in (c.send.click, c.question.submit)
    ]
    answers.append((c.go_on.click, partial(continue_last, ops), [c.history, c.chatbot, *settings]))
    # after each answer: its first source is shown, and the conversation is kept in the browser
    for trigger, answer, inputs in answers:
        trigger(answer, inputs, chat_out, concurrency_limit=4).then(
            show_source, preview_in, preview_out
        ).then(show_continue, c.chatbot, c.go_on).then(conv.remember, remember_in, remember_out)
    c.source_pick.input(show_source, preview_in, preview_out)
    # a reload, a switch of knowledge base or of conversation brings back the last answer's sources
    chat_view = [c.chatbot, c.history, conversations, c.saved]
    brought_back = [
        loaded,
        c.kb.change(conv.on_kb_change, [c.kb, c.saved], chat_view),
        conversations.input(
            conv.switch, [conversations, c.saved], [c.kb, c.chatbot, c.history, c.saved]
        ),
    ]
    for event in brought_back:
        event.then(conv.sources_of, c.saved, shown).then(show_source, preview_in, preview_out).then(
            show_continue, c.chatbot, c.go_on
        )
    new_chat.click(conv.new_chat, [c.kb, c.saved], chat_view).then(
        lambda: no_sources, None, shown
    ).then(show_continue, c.chatbot, c.go_on)
    c.clear.click(lambda: ([], [], *no_sources), None, [c.chatbot, c.history, *shown]).then(
        conv.remember, remember_in, remember_out
    ).then(show_continue, c.chatbot, c.go_on)
    # the chatbot's own trash icon
    c.chatbot.clear(lambda: ([], *no_sources), None, [c.history, *shown]).then(
        conv.remember, remember_in, remember_out
    ).then(show_continue, c.chatbot, c.go_on)
