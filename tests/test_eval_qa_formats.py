"""QA set readers: JSONL, the tutorial JSON list, CSV; errors; contexts as documents."""

import json
from pathlib import Path

import pytest

from eval.qa_sets import QAItem, contexts_as_documents, load_qa_set, safe_file_stem

SAMPLES = Path(__file__).resolve().parent.parent / "eval" / "samples"
SHARED_QA = Path(__file__).resolve().parents[2] / "shared" / "qa"


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_reads_fields_and_cleans_answers(tmp_path):
    rows = [
        {
            "id": "q1",
            "question": "谁开发了《战国无双3》？",
            "answers": ["光荣", " 光荣 ", "", "ω-force"],
            "context": "由光荣和ω-force开发。",
            "title": "战国无双3",
        },
        {"id": "q2", "question": "Unanswerable?", "answers": []},
        {
            "id": "q3",
            "question": "SQuAD v2 style",
            "answers": {"text": ["x"], "answer_start": [0]},
            "page": 4,
        },
    ]
    path = _write(
        tmp_path, "set.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n"
    )
    items = load_qa_set(path)
    assert items[0] == QAItem(
        id="q1",
        question="谁开发了《战国无双3》？",
        answers=["光荣", "ω-force"],
        context="由光荣和ω-force开发。",
        title="战国无双3",
    )
    assert items[1].answers == [] and not items[1].answerable
    assert items[2].answers == ["x"] and items[2].page == 4


def test_tutorial_json_list_page_num_becomes_one_based(tmp_path):
    data = [
        {"query": "What is X?", "answer": "X is Y", "page_num": 0},
        {"query": "Not in the PDF?", "answer": "", "page_num": 6},
    ]
    items = load_qa_set(_write(tmp_path, "qa.json", json.dumps(data)))
    assert [i.page for i in items] == [1, 7]
    assert items[0].question == "What is X?" and items[0].answers == ["X is Y"]
    assert items[1].answers == []
    assert [i.id for i in items] == ["qa-1", "qa-2"]


def test_csv_with_optional_page_and_id(tmp_path):
    text = 'Question,Answer,page,id\n什么是RAG？,检索增强生成,3,a\n"Who, exactly?",,,\n'
    items = load_qa_set(_write(tmp_path, "qa.csv", text))
    assert items[0] == QAItem(id="a", question="什么是RAG？", answers=["检索增强生成"], page=3)
    assert items[1].question == "Who, exactly?" and items[1].answers == [] and items[1].page is None
    assert items[1].id == "qa-3"


def test_dispatch_by_content_without_known_extension(tmp_path):
    jsonl = _write(tmp_path, "a.txt", json.dumps({"question": "q", "answers": ["a"]}) + "\n")
    assert load_qa_set(jsonl)[0].answers == ["a"]
    listed = _write(tmp_path, "b.data", json.dumps([{"query": "q", "answer": "a", "page_num": 2}]))
    assert load_qa_set(listed)[0].page == 3
    csv_file = _write(tmp_path, "c", "question,answer\nq,a\n")
    assert load_qa_set(csv_file)[0].answers == ["a"]


@pytest.mark.parametrize(
    "name, text, expected",
    [
        (
            "bad.jsonl",
            '{"question": "q", "answers": []}\n{"question": \n',
            r"bad\.jsonl:2: invalid JSON",
        ),
        ("bad.jsonl", '{"question": "q"}\n', r"bad\.jsonl:1: missing 'answers'"),
        (
            "bad.jsonl",
            '{"question": "", "answers": []}\n',
            r"bad\.jsonl:1: missing or empty 'question'",
        ),
        ("bad.jsonl", '["q", "a"]\n', r"bad\.jsonl:1: expected a JSON object"),
        (
            "bad.json",
            '[{"query": "q", "answer": "a"}, {"query": "q2"}]',
            r"bad\.json: item 2: missing 'answers'",
        ),
        (
            "bad.json",
            '[{"query": "q", "answer": "a", "page_num": "x"}]',
            r"item 1: page 'x' is not an integer",
        ),
        (
            "bad.json",
            '[{"query": "q", "answer": "a", "page_num": -1}]',
            r"item 1: page_num \(0-based\) -1",
        ),
        ("bad.json", '{"query": "q"}', r"bad\.json:1: expected a JSON list"),
        ("bad.csv", "question,answer\nq1,a1\n,a2\n", r"bad\.csv:3: empty question"),
        ("bad.csv", "query,reply\nq,a\n", r"bad\.csv:1: CSV header must contain"),
        ("bad.csv", "question,answer\nq,a,extra\n", r"bad\.csv:2: more fields"),
        (
            "dup.jsonl",
            '{"id": "1", "question": "q", "answers": []}\n' * 2,
            r"duplicate question id '1'",
        ),
        ("empty.jsonl", "\n  \n", r"empty\.jsonl: empty QA set"),
    ],
)
def test_bad_input_names_file_and_line(tmp_path, name, text, expected):
    with pytest.raises(ValueError, match=expected):
        load_qa_set(_write(tmp_path, name, text))


def test_contexts_as_documents_one_file_per_distinct_context():
    items = [
        QAItem(
            id="1", question="q1", answers=["a"], context="Paragraph one.", title="Super Bowl/50"
        ),
        QAItem(
            id="2", question="q2", answers=["b"], context="Paragraph one.", title="Super Bowl/50"
        ),
        QAItem(
            id="3", question="q3", answers=["c"], context="Paragraph two.", title="Super Bowl/50"
        ),
        QAItem(id="4", question="q4", answers=["d"], context="第三段。", title="战国无双3"),
        QAItem(id="5", question="q5", answers=[], context=None, source="kept.md"),
        QAItem(id="6", question="q6", answers=["e"], context="Untitled text."),
    ]
    documents = contexts_as_documents(items)
    assert [name for name, _ in documents] == [
        "Super_Bowl_50.md",
        "Super_Bowl_50-2.md",
        "战国无双3.md",
        "context_4.md",
    ]
    assert documents[0][1] == "# Super Bowl/50\n\nParagraph one.\n"
    assert documents[3][1].startswith("# context 4\n\nUntitled text.")
    assert [i.source for i in items] == [
        "Super_Bowl_50.md",
        "Super_Bowl_50.md",
        "Super_Bowl_50-2.md",
        "战国无双3.md",
        "kept.md",
        "context_4.md",
    ]


def test_safe_file_stem():
    assert safe_file_stem('a:b*c?"d<e>|f') == "a_b_c_d_e_f"
    assert safe_file_stem("../..") == "context"
    assert len(safe_file_stem("x" * 500)) == 80


def test_samples_load_with_unanswerable_items():
    zh, en = load_qa_set(SAMPLES / "sample_zh.jsonl"), load_qa_set(SAMPLES / "sample_en.jsonl")
    assert len(zh) == 10 and len(en) == 11
    for items in (zh, en):
        assert 1 <= sum(not i.answerable for i in items) <= 2
        for item in items:  # first gold is extractive from its own context
            assert item.context and (not item.answers or item.answers[0] in item.context)


@pytest.mark.shared
@pytest.mark.skipif(
    not (SHARED_QA / "cmrc2018_dev_part1.jsonl").exists(), reason="needs ../shared/qa"
)
def test_shared_cmrc_set_loads():
    items = load_qa_set(SHARED_QA / "cmrc2018_dev_part1.jsonl")
    assert len(items) > 1000 and all(i.answers and i.context for i in items)
    assert len(contexts_as_documents(items)) == len({i.context for i in items})
