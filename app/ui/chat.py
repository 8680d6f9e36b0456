"""The chat: a question streamed into a cited answer, the sources listed, and the cited page shown
with the passage highlighted (the first source at once; any other on a click)."""

import html
import io
import re
from collections.abc import Iterator

import gradio as gr

from answering import Citation
from app.operations.errors import user_message

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
CONTEXT_CHARS = 300  # text shown around a passage, each side


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~!])")
_MD_MARKUP = (
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.M), ""),  # heading marks
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"`([^`]+)`"), r"\1"),  # inline code
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images: their text
    (re.compile(r"^\s*[-*+]\s+", re.M), "• "),  # list items
)
MARKDOWN_SUFFIXES = (".md", ".markdown")


def readable(text: str, source: str) -> str:
    """A Markdown source's passage as a person reads it: headings, emphasis, code and link marks
    taken out (other formats' text is left as it is)."""
    if not source.lower().endswith(MARKDOWN_SUFFIXES):
        return text
    for pattern, replacement in _MD_MARKUP:
        text = pattern.sub(replacement, text)
    return text


def _md_escape(text: str) -> str:
    """Quoted document text shown literally: no headings, links or HTML from inside a chunk."""
    return _MD_SPECIAL.sub(r"\\\1", text)


# --- chat --------------------------------------------------------------------------------------
def format_sources(citations) -> str:
    """The Sources panel: ``answering.Citation``s, or their dicts (a stored conversation's)."""
    if not citations:
        return "*没有找到相关来源 No relevant sources.*"
    parts = []
    for c in (Citation(**d) if isinstance(d, dict) else d for d in citations):
        where = f"{c.source}, p.{c.page}" if c.page else c.source
        text = " ".join(readable(c.text, c.source).split())
        if len(text) > QUOTE_CHARS:
            text = text[:QUOTE_CHARS] + "…"
        parts.append(f"**[{c.n}] {_md_escape(where)}**\n\n> {_md_escape(text)}")
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
    answer, sources, cited, answer_id, cut = "", NO_SOURCES, [], "", False
    try:
        for event in events:
            match event:
                case Queued(position, wait_s):
                    messages[-1] = {"role": "assistant", "content": waiting_line(position, wait_s)}
                case Reading(n):  # the model reads the sources before its first token
                    messages[-1] = {
                        "role": "assistant",
                        "content": f"⏳ 正在阅读 {n} 个来源 Reading {n} sources…",
                    }
                case Token(text):
                    answer += text
                    messages[-1] = {"role": "assistant", "content": answer}
                case Sources(citations):
                    sources, cited = format_sources(citations), [c.as_dict() for c in citations]
                    continue
                case Done(final):
                    answer, answer_id, cut = final.answer, final.answer_id, final.cut_at_length
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
            "content": linked(answer, cited) + (CUT_NOTICE if cut else ""),
            "metadata": {"id": answer_id},
        }
    ]
    history = [
        *history,
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ][-20:]
    yield messages, history, sources, keep, cited, source_picker(cited)


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


# --- the cited page ----------------------------------------------------------------------------
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


def reflow(text: str, short: int = 6) -> str:
    """A typeset formula comes out of a PDF one symbol a line ("m\nX\ni=1"): short lines are joined
    to their neighbours with a space, so the passage reads as lines, not a column of tokens."""
    out: list[str] = []
    for line in text.split("\n"):
        piece = line.strip()
        if (
            out
            and piece
            and (len(piece) <= short or len(out[-1].strip()) <= short)
            and out[-1].strip()
        ):
            out[-1] = f"{out[-1].rstrip()} {piece}"
        else:
            out.append(line)
    return "\n".join(out)


def _where(c: dict) -> str:
    return f"[{c['n']}] {c['source']}" + (f", p.{c['page']}" if c.get("page") else "")
