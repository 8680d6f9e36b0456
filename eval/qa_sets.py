"""Readers for question-answer evaluation sets.

Three on-disk forms are accepted (see docs/eval.md):

* JSONL, one object a line: ``id, question, answers (list), context?, title?``
  (optionally ``page`` 1-based and ``source``) — the form of the CMRC 2018 /
  SQuAD / XQuAD extracts;
* the tutorial form: a JSON list of ``{"query", "answer", "page_num"}`` where
  ``page_num`` is 0-based (stored 1-based in :attr:`QAItem.page`);
* CSV with a header containing ``question`` and ``answer`` (optional ``page``,
  1-based, and ``id``).

An item with no answer (``answers == []``) is *unanswerable*: the product is
expected to refuse.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class QAItem:
    """One evaluation question with its gold answers and provenance."""

    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    context: str | None = None
    title: str | None = None
    page: int | None = None  # 1-based
    source: str | None = None  # file the gold context lives in (basename)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_qa_set(path: str | Path) -> list[QAItem]:
    """Read a QA set, choosing the reader by extension, then by content.

    Raises ``ValueError`` naming the file and line (or list item) on bad input.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc})") from None
    if not text.strip():
        raise ValueError(f"{path}: empty QA set")
    suffix = path.suffix.lower()
    first = text.lstrip()[:1]
    if suffix == ".csv":
        items = _read_csv(text, path)
    elif suffix == ".jsonl" or (suffix != ".json" and first == "{"):
        items = _read_jsonl(text, path)
    elif suffix == ".json" or first == "[":
        items = _read_json_list(text, path)
    else:
        items = _read_csv(text, path)
    if not items:
        raise ValueError(f"{path}: no questions found")
    _check_unique_ids(items, path)
    return items


def _read_jsonl(text: str, path: Path) -> list[QAItem]:
    items = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
        items.append(
            _item_from_record(record, f"{path}:{lineno}", default_id=f"{path.stem}-{lineno}")
        )
    return items


def _read_json_list(text: str, path: Path) -> list[QAItem]:
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(records, list):
        raise ValueError(
            f"{path}:1: expected a JSON list of question objects, got {type(records).__name__}"
        )
    return [
        _item_from_record(record, f"{path}: item {n}", default_id=f"{path.stem}-{n}")
        for n, record in enumerate(records, start=1)
    ]


def _read_csv(text: str, path: Path) -> list[QAItem]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "question" not in header or "answer" not in header:
        raise ValueError(f"{path}:1: CSV header must contain 'question' and 'answer', got {header}")
    reader.fieldnames = header
    items = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row:
            raise ValueError(f"{where}: more fields than the header has")
        question = (row.get("question") or "").strip()
        if not question:
            raise ValueError(f"{where}: empty question")
        answer = (row.get("answer") or "").strip()
        items.append(
            QAItem(
                id=(row.get("id") or "").strip() or f"{path.stem}-{reader.line_num}",
                question=question,
                answers=[answer] if answer else [],
                context=(row.get("context") or "").strip() or None,
                title=(row.get("title") or "").strip() or None,
                page=_parse_page(row.get("page"), where, zero_based=False),
                source=(row.get("source") or "").strip() or None,
            )
        )
    return items


def _item_from_record(record: Any, where: str, default_id: str) -> QAItem:
    """Build a QAItem from a JSON object in the JSONL or the tutorial form."""
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    question = record.get("question", record.get("query"))
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}: missing or empty 'question' (or 'query')")
    if "answers" in record:
        answers = _answer_list(record["answers"], where)
    elif "answer" in record:
        answers = _answer_list([record["answer"]] if record["answer"] is not None else [], where)
    else:
        raise ValueError(f"{where}: missing 'answers' (use [] for an unanswerable question)")
    if "page_num" in record:
        page = _parse_page(record["page_num"], where, zero_based=True)
    else:
        page = _parse_page(record.get("page"), where, zero_based=False)
    return QAItem(
        id=str(record.get("id") or default_id),
        question=question.strip(),
        answers=answers,
        context=_optional_str(record.get("context"), "context", where),
        title=_optional_str(record.get("title"), "title", where),
        page=page,
        source=_optional_str(record.get("source"), "source", where),
    )


def _answer_list(value: Any, where: str) -> list[str]:
    """Answers as distinct non-blank strings; accepts SQuAD's ``{"text": [...]}``."""
    if isinstance(value, dict) and "text" in value:
        value = value["text"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{where}: 'answers' must be a list of strings")
    answers: list[str] = []
    for answer in value:
        if isinstance(answer, dict) and "text" in answer:
            answer = answer["text"]
        if not isinstance(answer, str):
            raise ValueError(f"{where}: answer {answer!r} is not a string")
        answer = answer.strip()
        if answer and answer not in answers:
            answers.append(answer)
    return answers


def _optional_str(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{where}: '{name}' must be a string")
    return value.strip() or None


def _parse_page(value: Any, where: str, zero_based: bool) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{where}: page {value!r} is not an integer")
    try:
        page = int(value) if isinstance(value, (int, float)) else int(str(value).strip())
    except ValueError:
        raise ValueError(f"{where}: page {value!r} is not an integer") from None
    page = page + 1 if zero_based else page
    if page < 1:
        kind = "page_num (0-based)" if zero_based else "page (1-based)"
        raise ValueError(f"{where}: {kind} {value!r} is out of range")
    return page


def _check_unique_ids(items: list[QAItem], path: Path) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"{path}: duplicate question id {item.id!r}")
        seen.add(item.id)


_UNSAFE_FILENAME_CHARS = re.compile(r"[^\w\-.()\u3000-\u303f\uff00-\uffef]+")


def safe_file_stem(title: str, max_len: int = 80) -> str:
    """A file-name stem from a title: unsafe characters become ``_``."""
    stem = _UNSAFE_FILENAME_CHARS.sub("_", title.strip())
    stem = stem.strip("._ ")[:max_len].rstrip("._ ")
    return stem or "context"


def contexts_as_documents(items: Iterable[QAItem]) -> list[tuple[str, str]]:
    """One ``(file_name, markdown_text)`` per distinct context, in first-seen order.

    The file name comes from the item's title (sanitised, ``.md``; a second
    context with the same title gets ``-2``, and so on); the text starts with
    a ``# title`` heading. Each item's :attr:`QAItem.source` is set, in place,
    to the file name its context became, so retrieval can count a hit from
    that file as a hit. Items without a context keep their ``source``.
    """
    documents: list[tuple[str, str]] = []
    file_for_context: dict[str, str] = {}
    used_names: set[str] = set()
    for item in items:
        if not item.context:
            continue
        name = file_for_context.get(item.context)
        if name is None:
            title = item.title or f"context {len(documents) + 1}"
            name = _unique_name(safe_file_stem(title), used_names)
            used_names.add(name.lower())
            file_for_context[item.context] = name
            documents.append((name, f"# {title}\n\n{item.context}\n"))
        item.source = name
    return documents


def _unique_name(stem: str, used_lower: set[str]) -> str:
    name, n = f"{stem}.md", 1
    while name.lower() in used_lower:
        n += 1
        name = f"{stem}-{n}.md"
    return name
