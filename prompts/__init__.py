"""Prompt templates (Chinese and English) for answering, condensing and judging.

Templates live in ``prompts/templates/<name>_<lang>.txt``. A file may start with a
``[system]`` section followed by a ``[user]`` section (each header on its own line);
without headers the whole file is the user message. Placeholders are ``{name}``;
unknown placeholders and other braces (e.g. JSON examples) are left untouched.

The answer template is written for an instruct model: rules in the system message
(answer only from the numbered sources, cite ``[n]``, the exact refusal sentence
``NO_ANSWER``), the sources as ``[n] (file, p.X) text`` and the question in the user
message. A base model's adapter appends its own answer cue.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Literal

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from language import CJK, detect_language

__all__ = [
    "NO_ANSWER",
    "overview_messages",
    "TEMPLATE_NAMES",
    "answer_messages",
    "condense_messages",
    "detect_language",
    "estimate_tokens",
    "format_context",
    "judge_messages",
    "load_template",
    "render_template",
]

NO_ANSWER = {
    "zh": "知识库中没有找到与该问题相关的内容。",
    "en": "The knowledge base does not contain information about this question.",
}
TEMPLATE_NAMES = ("answer", "condense", "judge_faithfulness", "judge_relevance", "overview")
_LANGS = ("zh", "en")
_NO_CONTEXT = {"zh": "（无）", "en": "(none)"}
_ROLE_LABELS = {
    "zh": {"user": "用户", "assistant": "助手"},
    "en": {"user": "User", "assistant": "Assistant"},
}

_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
_SECTION_RE = re.compile(r"^\[(system|user)\][ \t]*$", re.MULTILINE)


def estimate_tokens(text: str) -> int:
    """Tokens ``text`` costs a typical multilingual tokenizer, without loading one.

    Measured on Qwen2.5's tokenizer: about 0.8 token per Han character and one per
    four other characters. Budgets for the sources use this, for any provider.
    """
    cjk = len(CJK.findall(text or ""))
    return int(cjk * 0.8 + (len(text or "") - cjk) / 4) + 1


def _check_name(name: str, lang: str) -> None:
    if lang not in _LANGS:
        raise ValueError(f"unsupported prompt language {lang!r}; expected one of {_LANGS}")
    # Names become file names: allow only simple identifiers (no path traversal).
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"invalid template name {name!r}")


def load_template(name: str, lang: str, override_dir: str | None = None) -> str:
    """Text of ``<name>_<lang>.txt``; a file of that name in ``override_dir`` wins."""
    _check_name(name, lang)
    filename = f"{name}_{lang}.txt"
    if override_dir:
        candidate = Path(override_dir) / filename
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    packaged = files("prompts").joinpath("templates", filename)
    if not packaged.is_file():
        raise FileNotFoundError(f"no prompt template named {filename}")
    return packaged.read_text(encoding="utf-8")


def render_template(template: str, **values: str) -> tuple[str, str]:
    """Fill ``{placeholders}`` in one pass and split into (system, user) text.

    One regex pass means text inserted for one placeholder (e.g. a document that
    contains "{question}") is never substituted again.
    """
    filled = _PLACEHOLDER_RE.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
    parts = _SECTION_RE.split(filled)
    if len(parts) == 1:
        return "", filled.strip()
    sections = {"system": "", "user": parts[0].strip()}
    for role, body in zip(parts[1::2], parts[2::2]):
        sections[role] = body.strip()
    return sections["system"], sections["user"]


def _messages(template: str, **values: str) -> list[BaseMessage]:
    system, user = render_template(template, **values)
    messages: list[BaseMessage] = [SystemMessage(content=system)] if system else []
    messages.append(HumanMessage(content=user))
    return messages


def format_context(blocks: list[dict]) -> str:
    """Number context blocks as ``[n] (source, p.N)`` followed by the block's text, its line breaks
    kept (a heading stays a heading) and blank lines folded, so the numbering stays unambiguous."""
    parts = []
    for i, block in enumerate(blocks, start=1):
        n = block.get("n") or i
        source, page = block.get("source"), block.get("page")
        where = ", ".join(
            x
            for x in (str(source) if source else "", f"p.{page}" if page not in (None, "") else "")
            if x
        )
        lines = [" ".join(line.split()) for line in str(block.get("text", "")).splitlines()]
        text = "\n".join(line for line in lines if line)
        parts.append(f"[{n}] ({where})\n{text}" if where else f"[{n}]\n{text}")
    return "\n\n".join(parts)


# said after the question when the sources are in the other language: a small model otherwise
# reads Chinese sources under an English question as holding nothing (issue 38's walk)
_OTHER_LANGUAGE = {
    "zh": "\n注意：资料是英文的，答案可能就在其中：请读懂后用中文回答。",
    "en": "\nNote: the sources are in Chinese and may hold the answer: read them, then answer in"
    " English.",
}

_INSTRUCTIONS = {
    "zh": "\n\n使用者的附加要求（以上规则仍然优先）：\n",
    "en": "\n\nAdditional instructions from the user (the rules above still come first):\n",
}


def answer_messages(
    question: str,
    context_blocks: list[dict],
    lang: str | None = None,
    override_dir: str | None = None,
    instructions: str | None = None,
    sources_lang: str | None = None,
) -> list[BaseMessage]:
    """Messages asking for a cited answer from the numbered context only. ``instructions`` (a
    caller's own system message) go after the knowledge-base rules, which keep precedence.
    ``sources_lang``: the sources' language; another than the question's is said after it."""
    lang = lang or detect_language(question)
    context = format_context(context_blocks) or _NO_CONTEXT[lang]
    template = load_template("answer", lang, override_dir)
    messages = _messages(
        template, context=context, question=" ".join(question.split()), no_answer=NO_ANSWER[lang]
    )
    if sources_lang and sources_lang != lang and context_blocks:
        messages[-1] = HumanMessage(content=str(messages[-1].content) + _OTHER_LANGUAGE[lang])
    if instructions and instructions.strip():
        extra = _INSTRUCTIONS[lang] + instructions.strip()
        if isinstance(messages[0], SystemMessage):
            messages[0] = SystemMessage(content=str(messages[0].content) + extra)
        else:
            messages.insert(0, SystemMessage(content=extra.strip()))
    return messages


def overview_messages(
    question: str, context_blocks: list[dict], lang: str, override_dir: str | None = None
) -> list[BaseMessage]:
    """Messages asking for a short cited overview of some sections from their digests (a
    structure question: answering/structure_answer.py)."""
    template = load_template("overview", lang, override_dir)
    return _messages(
        template, context=format_context(context_blocks), question=" ".join(question.split())
    )


def _format_history(history: list[dict], lang: str) -> str:
    labels = _ROLE_LABELS[lang]
    sep = "：" if lang == "zh" else ": "
    lines = []
    for turn in history:
        role = labels.get(turn.get("role", "user"), labels["user"])
        lines.append(f"{role}{sep}{' '.join(str(turn.get('content', '')).split())}")
    return "\n".join(lines) or _NO_CONTEXT[lang]


def condense_messages(
    history: list[dict],
    question: str,
    lang: str | None = None,
    override_dir: str | None = None,
) -> list[BaseMessage]:
    """Messages rewriting a follow-up question into a standalone one."""
    lang = lang or detect_language(question)
    template = load_template("condense", lang, override_dir)
    return _messages(
        template, history=_format_history(history, lang), question=" ".join(question.split())
    )


def judge_messages(
    kind: Literal["faithfulness", "relevance"],
    question: str,
    answer: str,
    context: str | list[dict],
    lang: str | None = None,
    override_dir: str | None = None,
) -> list[BaseMessage]:
    """LLM-as-judge messages; the judge replies ``{"score": 1-5, "reason": "..."}``."""
    if kind not in ("faithfulness", "relevance"):
        raise ValueError(f"unknown judge kind {kind!r}; expected 'faithfulness' or 'relevance'")
    lang = lang or detect_language(question)
    context_text = format_context(context) if isinstance(context, list) else str(context)
    template = load_template(f"judge_{kind}", lang, override_dir)
    return _messages(
        template, question=question, answer=answer, context=context_text or _NO_CONTEXT[lang]
    )
