"""LLM-as-judge scoring with an on-disk cache.

The judge is a plain callable taking LangChain messages and returning the
model's text. Prompts come from ``prompts.judge_messages`` unless another
message builder is passed in. Scores are integers 1–5.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

JudgeKind = Literal["faithfulness", "relevance"]
JUDGE_KINDS: tuple[JudgeKind, ...] = ("faithfulness", "relevance")

# (kind, question, answer, context, lang) -> messages
MessageBuilder = Callable[[str, str, str, str, str | None], list]

_JSON_OBJECT = re.compile(r"\{[^{}]*\}")
_PLACEHOLDER = re.compile(r"<[^<>]*>")
_SCORE_DIGIT = re.compile(r"(?<![\d.])([1-5])(?!\d|\.\d)")


def parse_judge_score(reply: str) -> int | None:
    """The score in a judge reply: JSON ``{"score": n}`` first, else the first
    integer 1–5 standing alone (``4``, ``4/5``, ``Score: 4``). None if absent."""
    for match in _JSON_OBJECT.finditer(reply):
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            continue
        score = data.get("score") if isinstance(data, dict) else None
        if (
            isinstance(score, (int, float))
            and not isinstance(score, bool)
            and score in (1, 2, 3, 4, 5)
        ):
            return int(score)
        if isinstance(score, str) and score.strip() in {"1", "2", "3", "4", "5"}:
            return int(score.strip())
    digit = _SCORE_DIGIT.search(
        _PLACEHOLDER.sub("", reply)
    )  # a template echo ("<integer 1-5>") is no score
    return int(digit.group(1)) if digit else None


def judge_cache_key(model: str, kind: str, question: str, answer: str, context: str) -> str:
    """sha256 over the judge model name, judge kind, question, answer and context."""
    digest = hashlib.sha256()
    for part in (model, kind, question, answer, context):
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))  # length prefix: no ambiguous joins
        digest.update(data)
    return digest.hexdigest()


class JudgeCache:
    """One JSON file per key under ``directory``; no cache when ``directory`` is None."""

    def __init__(self, directory: str | Path | None):
        self.directory = Path(directory) if directory is not None else None

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        path = self._path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.directory is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)


def default_message_builder(
    kind: str, question: str, answer: str, context: str, lang: str | None
) -> list:
    """Judge messages from the ``prompts`` package (imported when first needed)."""
    from prompts import judge_messages  # the prompts package owns the judge prompt text

    return judge_messages(kind, question, answer, context, lang=lang)  # type: ignore[arg-type]


def judge_answer(
    judge: Callable[[list], str],
    question: str,
    answer: str,
    context: str,
    *,
    kinds: Sequence[str] = JUDGE_KINDS,
    model: str = "",
    lang: str | None = None,
    cache: JudgeCache | None = None,
    build_messages: MessageBuilder = default_message_builder,
) -> tuple[dict[str, int | None], int]:
    """Scores per kind (None when the reply has no score) and the number of judge calls made."""
    scores: dict[str, int | None] = {}
    calls = 0
    for kind in kinds:
        key = judge_cache_key(model, kind, question, answer, context)
        cached = cache.get(key) if cache is not None else None
        if cached is not None and "score" in cached:
            scores[kind] = cached["score"]
            continue
        reply = judge(build_messages(kind, question, answer, context, lang))
        calls += 1
        reply_text = reply if isinstance(reply, str) else str(getattr(reply, "content", reply))
        scores[kind] = parse_judge_score(reply_text)
        # unparsable replies are retried next run
        if cache is not None and scores[kind] is not None:
            cache.put(
                key,
                {"score": scores[kind], "kind": kind, "model": model, "reply": reply_text[:2000]},
            )
    return scores, calls


@dataclass
class ChatJudge:
    """A judge callable over a LangChain chat model. A failing call scores nothing (``""`` reply, so
    no score) instead of ending a long run; ``errors`` counts them and ``last_error`` keeps the
    latest."""

    chat_model: Any
    name: str
    errors: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, messages: list) -> str:
        try:
            content = self.chat_model.invoke(messages).content
        except Exception as exc:  # noqa: BLE001  one bad judge call must not end a long run
            with self._lock:
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            return ""
        return content if isinstance(content, str) else str(content)
