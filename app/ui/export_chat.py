"""A conversation exported from the page, as Markdown and as JSON, each answer with its citations
(file, page, the cited passage). The citations come from the browser's stored conversation
(``conversations.remember`` keeps each answer's)."""

import json
import re
import tempfile
from datetime import datetime
from pathlib import Path

_LINKED = re.compile(r"\[\[(\d+)\]\]\(#cite-\d+\)")  # the page's [n] links, back to plain [n]


def turns(chat: dict) -> list[dict]:
    """Question/answer pairs in order: {question, answer, citations}."""
    out: list[dict] = []
    cited = chat.get("citations") or {}
    for index, message in enumerate(chat.get("messages") or []):
        text = _LINKED.sub(r"[\1]", message.get("content") or "")
        if message.get("role") == "user":
            out.append({"question": text, "answer": "", "citations": []})
        elif out and not out[-1]["answer"]:
            out[-1]["answer"] = text
            out[-1]["citations"] = [_citation(c) for c in cited.get(str(index), [])]
    return out


def _citation(c: dict) -> dict:
    keep = ("n", "source", "page", "doc_id", "chunk_id", "text")
    return {k: c.get(k) for k in keep}


def as_json(chat: dict, now: datetime) -> str:
    body = {
        "title": chat.get("title", ""),
        "kb": chat.get("kb"),
        "exported_at": now.isoformat(timespec="seconds"),
        "turns": turns(chat),
    }
    return json.dumps(body, ensure_ascii=False, indent=1)


def as_markdown(chat: dict, now: datetime) -> str:
    lines = [
        f"# {chat.get('title', '')}",
        "",
        f"*知识库 Knowledge base: {chat.get('kb')} · {now:%Y-%m-%d %H:%M}*",
    ]
    for turn in turns(chat):
        lines += [
            "",
            "## 问 Question",
            "",
            turn["question"],
            "",
            "## 答 Answer",
            "",
            turn["answer"],
        ]
        if turn["citations"]:
            lines += ["", "**来源 Sources**", ""]
        for c in turn["citations"]:
            where = f"{c['source']}, p.{c['page']}" if c.get("page") else c["source"]
            quote = " ".join((c.get("text") or "").split())
            lines.append(f"- [{c['n']}] {where}: {quote}")
    return "\n".join(lines) + "\n"


def export_current(saved: dict | None) -> list[str] | None:
    """The current conversation written as a .md and a .json file (paths for a gr.File); None when
    there is nothing to export."""
    saved = saved if isinstance(saved, dict) else {}
    chat = next((c for c in saved.get("chats", []) if c["id"] == saved.get("current")), None)
    if chat is None or not chat.get("messages"):
        return None
    now = datetime.now()
    folder = Path(tempfile.mkdtemp(prefix="kb-conversation-"))
    stem = f"conversation-{now:%Y%m%d-%H%M}"
    markdown, body = folder / f"{stem}.md", folder / f"{stem}.json"
    markdown.write_text(as_markdown(chat, now), encoding="utf-8")
    body.write_text(as_json(chat, now), encoding="utf-8")
    return [str(markdown), str(body)]
