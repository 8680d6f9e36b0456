"""The retrieval-test tab ("检索测试 Retrieval test"): for a query, the ranked passages with each
signal that ranked them under its own name, and what the answer step would decide before any model
runs, and why. Mode, k and the documents in scope can be changed; no model is called. The same as
`POST /search` with explain and `kb search --explain`."""

from functools import partial

import gradio as gr
import pandas as pd

from app.operations import SIGNALS, hit_signals, user_message

# the signals shown as columns, in the order they act (SIGNALS has them all)
SHOWN_SIGNALS = (
    "dense_score",
    "dense_rank",
    "keyword_score",
    "keyword_rank",
    "fused_score",
    "page_rescore",
    "rerank_score",
)
HIT_COLUMNS = ["#", "文件 File", "页 Page", "内容 Text", *SHOWN_SIGNALS, "id"]
HIT_WIDTHS: list[str | int] = ["4%", "11%", "5%", "36%", *["5%"] * len(SHOWN_SIGNALS), "9%"]


def decision_text(found: dict) -> str:
    d = found["decision"]
    verdict = (
        "✅ 会回答 Would be answered"
        if d["refused_by"] is None
        else f"⛔ 会拒答 Would be refused ({d['refused_by']})"
    )
    lines = [f"**{verdict}**: {d['reason']}"]
    if d.get("bar") is not None:
        lines.append(
            f"best dense {d.get('best_dense_score')} ({d.get('best_dense_lang')}) vs bar "
            f"{d['bar']}; question: {d.get('question_lang')}"
        )
    if found.get("structure_question"):
        lines.append(f"结构问题 Structure question: {found['structure_question']}")
    o = found["options"]
    lines.append(f"mode {o.get('mode')}, k {o.get('k')}")
    return "\n\n".join(lines)


def run_test(ops, kb_name, query, mode, k, doc_ids):
    """(the hits table, the decision)."""
    empty = pd.DataFrame([], columns=HIT_COLUMNS)
    query = (query or "").strip()
    if not kb_name or not query:
        return empty, "请选择知识库并输入查询 Choose a knowledge base and type a query."
    try:
        found = ops.search.explain(kb_name, query, int(k), mode, list(doc_ids or []) or None)
    except Exception as exc:  # noqa: BLE001  shown, never raised into the page
        return empty, f"⚠️ {user_message(exc)}"
    rows = []
    for n, hit in enumerate(found["hits"], 1):
        shown = hit_signals(hit)
        signals = shown["signals"]
        rows.append(
            [
                n,
                shown["source"],
                "" if shown.get("page") is None else shown["page"],
                shown["text"],
                *("" if signals.get(s) is None else signals[s] for s in SHOWN_SIGNALS),
                shown.get("chunk_id", ""),
            ]
        )
    return pd.DataFrame(rows, columns=HIT_COLUMNS), decision_text(found)


def build_retrieval_test(ops, kb: gr.Dropdown) -> None:
    """The tab and its events; call inside ``gr.Tabs``."""
    from app.ui.documents import filter_choices
    from retrieval import SEARCH_MODES

    with gr.Tab("检索测试 Retrieval test", id="retrieval-test"):
        gr.Markdown(
            "看一个查询找到哪些段落、各项信号如何排序它们，以及回答步骤会如何决定（不调用模型）。 "
            "See which passages a query finds, each signal that ranked them, and what the answer "
            f"step would decide (no model is called). Signals: {', '.join(SIGNALS)}."
        )
        with gr.Row():
            query = gr.Textbox(label="查询 Query", max_lines=2, scale=4, elem_id="test-query")
            mode = gr.Radio(
                list(SEARCH_MODES), value=ops.settings.search_mode, label="方式 Mode", scale=2
            )
            k = gr.Slider(1, 20, value=ops.settings.search_k, step=1, label="k", scale=1)
        scope = gr.Dropdown(
            label="范围 Documents in scope (可选 optional)",
            choices=[],
            multiselect=True,
            elem_id="test-scope",
        )
        run = gr.Button("检索 Test", variant="primary", elem_id="test-run")
        decision = gr.Markdown(elem_id="test-decision")
        hits = gr.Dataframe(headers=HIT_COLUMNS, interactive=False, wrap=True, elem_id="test-hits")
    test = partial(run_test, ops)
    for trigger in (run.click, query.submit):
        trigger(test, [kb, query, mode, k, scope], [hits, decision])
    kb.change(partial(filter_choices, ops), kb, scope)
    run.click(partial(filter_choices_kept, ops), [kb, scope], scope)


def filter_choices_kept(ops, kb_name, chosen):
    """The scope's choices brought up to date (a document uploaded since), the choice kept."""
    from app.ui.documents import filter_choices

    fresh = filter_choices(ops, kb_name)
    return gr.update(choices=fresh["choices"], value=chosen)
