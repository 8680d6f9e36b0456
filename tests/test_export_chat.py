"""A conversation exported from the page: each answer with its own citations, in Markdown and JSON,
from what the browser stores."""

import json
from datetime import datetime
from pathlib import Path

from app.ui import conversations as conv
from app.ui.export_chat import as_markdown, export_current, turns

CITED_1 = [
    {
        "n": 1,
        "source": "handbook.pdf",
        "page": 2,
        "doc_id": "d1",
        "chunk_id": "d1-3",
        "text": "正式员工每年享有十五天带薪年假。",
        "score": 0.9,
    }
]
CITED_2 = [{"n": 1, "source": "notes.md", "page": None, "doc_id": "d2", "chunk_id": "d2-0",
            "text": "报销须在三十天内提交。", "score": 0.8}]  # fmt: skip


def two_answers() -> dict:
    """Two questions answered one after the other, stored as the page stores them."""
    saved = conv.new_chat("hr", conv.empty())[3]
    shown = [
        {"role": "user", "content": "年假有几天？"},
        {"role": "assistant", "content": "十五天[[1]](#cite-1)。"},
    ]
    saved, _ = conv.remember("hr", shown, [], saved, CITED_1)
    shown += [
        {"role": "user", "content": "报销期限？"},
        {"role": "assistant", "content": "三十天内[[1]](#cite-1)。"},
    ]
    saved, _ = conv.remember("hr", shown, [], saved, CITED_2)
    return saved


def current(saved: dict) -> dict:
    return next(c for c in saved["chats"] if c["id"] == saved["current"])


def test_each_answer_keeps_its_own_citations():
    pairs = turns(current(two_answers()))
    assert [t["question"] for t in pairs] == ["年假有几天？", "报销期限？"]
    assert pairs[0]["answer"] == "十五天[1]。"  # the page's links are plain markers again
    assert pairs[0]["citations"][0]["source"] == "handbook.pdf"
    assert pairs[0]["citations"][0]["page"] == 2
    assert pairs[1]["citations"][0]["source"] == "notes.md"


def test_markdown_names_file_page_and_the_cited_passage():
    text = as_markdown(current(two_answers()), datetime(2026, 12, 7, 12, 0))
    assert text.index("年假有几天？") < text.index("十五天[1]") < text.index("报销期限？")
    assert "- [1] handbook.pdf, p.2: 正式员工每年享有十五天带薪年假。" in text
    assert "- [1] notes.md: 报销须在三十天内提交。" in text


def test_both_files_are_written_and_the_json_reads_back():
    paths = export_current(two_answers())
    assert paths is not None
    md, js = (Path(p) for p in paths)
    assert md.suffix == ".md" and "## 答 Answer" in md.read_text(encoding="utf-8")
    body = json.loads(js.read_text(encoding="utf-8"))
    assert body["kb"] == "hr" and len(body["turns"]) == 2
    assert body["turns"][1]["citations"][0]["chunk_id"] == "d2-0"


def test_clearing_drops_the_citations_and_nothing_is_exported():
    saved, _ = conv.remember("hr", [], [], two_answers(), [])
    assert current(saved)["citations"] == {}
    assert export_current(saved) is None
    assert export_current(None) is None
