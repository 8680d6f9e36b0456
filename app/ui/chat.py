"""The chat: a question streamed into a cited answer, the sources listed, and the cited page shown
with the passage highlighted (the first source at once; any other on a click)."""

import re
from collections.abc import Iterator

import gradio as gr

from answering import Citation, reflow_formula_lines
from app.operations.errors import user_message
from app.ui.markdown_text import md_escape, readable

NO_SOURCES = "*暂无来源 No sources yet.*"
# A click on a citation link [n] in the latest answer picks that source (its page shows beside the
# chat).
CITATION_CLICKS_JS = """() => {
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href*="#cite-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const n = link.getAttribute("href").split("#cite-")[1];
    for (const label of document.querySelectorAll("#source-pick label")) {
      if (label.textContent.trim().startsWith(`[${n}]`)) { label.click(); break; }
    }
  }, true);
}"""
_MARKER = re.compile(r"\[(\d{1,2})\]")
_LINKED = re.compile(r"\[\[(\d{1,2})\]\]\(#cite-\d{1,2}\)")
QUOTE_CHARS = 400


# --- chat --------------------------------------------------------------------------------------
def format_sources(citations, read: int | None = None) -> str:
    """The Sources panel: ``answering.Citation``s, or their dicts (a stored conversation's).
    ``read``: how many passages the model read (the "Reading N passages" line), so the panel says
    how many of them the answer cites."""
    if not citations:
        if read:
            return (
                f"*读了 {read} 个段落，回答没有引用 Read {read} passages; the answer cites none.*"
            )
        return "*没有找到相关来源 No relevant sources.*"
    parts = []
    if read and read != len(citations):
        parts.append(
            f"*回答引用了 {len(citations)} 个（共读 {read} 个段落） "
            f"The answer cites {len(citations)} of the {read} passages read.*"
        )
    for c in (Citation(**d) if isinstance(d, dict) else d for d in citations):
        where = f"{c.source}, p.{c.page}" if c.page else c.source
        text = " ".join(readable(c.text, c.source).split())
        if len(text) > QUOTE_CHARS:
            text = text[:QUOTE_CHARS] + "…"
        parts.append(f"**[{c.n}] {md_escape(where)}**\n\n> {md_escape(text)}")
    return "\n\n".join(parts)


def chat(
    ops,
    question: str,
    history: list[dict],
    messages: list[dict],
    kb_name: str | None,
    provider: str | None,
    model: str | None,
    temperature: float,
    k: int,
    doc_ids: list[str] | None = None,
    max_tokens: int | None = None,
) -> Iterator[tuple]:
    """Generator: yields (chatbot messages, history state, sources markdown, question box, cited
    state, source picker). ``max_tokens``: the answer's length cap (None: the model's own)."""
    from answering import Done, Failed, Reading, Sources, Token
    from app.operations import AskOptions, Queued
    from app.ui.source_view import source_picker

    question = (question or "").strip()
    messages = list(messages or [])
    keep = gr.update()
    if not question:
        yield messages, history, keep, keep, keep, keep
        return
    if not kb_name:
        gr.Warning("请先选择知识库 Choose a knowledge base first.")
        yield messages, history, keep, keep, keep, keep
        return
    options = AskOptions(
        kb_name,
        provider=provider or None,
        model=(model or "").strip() or None,
        temperature=temperature,
        k=int(k) if k else None,
        doc_ids=tuple(doc_ids) if doc_ids else None,
        max_tokens=max_tokens,
    )
    try:
        events = ops.answers.stream(question, history, options)
    except Exception as exc:  # a bad request: too long a question, a knowledge base that is gone
        gr.Warning(f"无法提问 Cannot ask: {user_message(exc)}")
        yield messages, history, keep, keep, keep, keep
        return
    messages += [
        {"role": "user", "content": question},
        {"role": "assistant", "content": "⏳ 思考中 Thinking…"},
    ]
    yield messages, history, keep, "", keep, keep
    answer, sources, cited, answer_id, cut, weak = "", NO_SOURCES, [], "", False, False
    read: int | None = None  # passages the model read
    try:
        for event in events:
            match event:
                case Queued(position, wait_s):
                    messages[-1] = {"role": "assistant", "content": waiting_line(position, wait_s)}
                case Reading(n):  # the model reads the passages before its first token
                    read = n
                    messages[-1] = {
                        "role": "assistant",
                        "content": f"⏳ 正在阅读 {n} 个段落 Reading {n} passages…",
                    }
                case Token(text):
                    answer += text
                    messages[-1] = {"role": "assistant", "content": answer}
                case Sources(citations):
                    sources = format_sources(citations, read)
                    cited = [c.as_dict() for c in citations]
                    continue
                case Done(final):
                    answer, answer_id, cut = final.answer, final.answer_id, final.cut_at_length
                    weak = final.weak_evidence
                    cited = [c.as_dict() for c in final.citations]  # with supporting sentences
                    continue
                case Failed(message):
                    gr.Warning(message)
                    shown = (answer + "\n\n" if answer else "") + f"⚠️ 出错 Error: {message}"
                    messages[-1] = {"role": "assistant", "content": shown}
                    yield messages, history, keep, keep, keep, keep
                    return
            yield messages, history, keep, keep, keep, keep
    finally:
        events.cancel()  # the page was closed or the question stopped: it leaves the queue

    # the answer's id rides in its message, for a 👍/👎 on it (app/ui/feedback.py)
    messages = [_unlinked(m) for m in messages[:-1]] + [
        {
            "role": "assistant",
            "content": (WEAK_NOTICE if weak else "")
            + linked(reflow_formula_lines(answer), cited)
            + (CUT_NOTICE if cut else ""),
            "metadata": {"id": answer_id},
        }
    ]
    history = [
        *history,
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ][-20:]
    yield messages, history, sources, keep, cited, source_picker(cited)


# before an answer given on thin evidence (answering.refusal.is_weak)
WEAK_NOTICE = "ℹ️ *资料中可能没有直接说明 The documents may not state this directly.*\n\n"
# after an answer the model stopped at its length cap (the Continue button asks it again, longer)
CUT_NOTICE = (
    "\n\n✂️ *回答在长度上限处被截断，点「继续 Continue」让它写完。 "
    "The answer was cut at the length cap: press Continue to let it finish.*"
)


def waiting_line(position: int, wait_s: float | None) -> str:
    """What a question waiting for the model shows in place of the answer."""
    about = f", ~{wait_s:.0f} s" if wait_s else ""
    plural = "" if position == 1 else "s"
    return f"⏳ 前面还有 {position} 个问题 {position} question{plural} ahead{about}"


def linked(answer: str, cited: list[dict]) -> str:
    """The answer with each [n] it cites as a link that shows source n (only the latest answer has
    them)."""
    numbers = {c["n"] for c in cited}
    return _MARKER.sub(
        lambda m: (
            f"[[{m.group(1)}]](#cite-{m.group(1)})" if int(m.group(1)) in numbers else m.group(0)
        ),
        answer,
    )


def _unlinked(message: dict) -> dict:
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": _LINKED.sub(r"[\1]", content)}
    if isinstance(content, list):
        return {
            **message,
            "content": [
                (
                    {**p, "text": _LINKED.sub(r"[\1]", p["text"])}
                    if isinstance(p, dict) and "text" in p
                    else p
                )
                for p in content
            ],
        }
    return message
