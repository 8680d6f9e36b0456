"""`kb passage` and `kb feedback` as a user runs them: real subprocesses over one data dir."""

import json

import pytest

from tests.test_cli import run

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-box")
    (root / "docs").mkdir()
    (root / "docs" / "手册.md").write_text(
        "# 手册\n\n## 年假\n\n正式员工每年享有十五天带薪年假。\n\n"
        "## 报销\n\n报销须在出差结束后十五个工作日内提交。\n",
        encoding="utf-8",
    )
    data = root / "data"
    assert run(["ingest", str(root / "docs"), "--kb", "box"], data).returncode == 0
    doc = json.loads(run(["docs", "--kb", "box", "--json"], data).stdout)[0]["doc_id"]
    return data, doc


def test_passages_are_edited_disabled_added_and_removed(kb):
    data, doc = kb
    items = json.loads(run(["passages", doc[:12], "--kb", "box", "--json"], data).stdout)["items"]
    chunk = next(i["chunk_id"] for i in items if "十五天" in i["text"])
    edited = run(
        ["passage", "edit", chunk, "--text", "正式员工每年享有二十天带薪年假。", "--kb", "box"],
        data,
    )
    assert edited.returncode == 0 and "edited" in edited.stdout, edited.stderr
    hits = json.loads(run(["search", "二十天", "--kb", "box", "--json"], data).stdout)["hits"]
    assert hits[0]["chunk_id"] == chunk
    assert run(["passage", "disable", chunk, "--kb", "box"], data).returncode == 0
    shown = run(["passages", doc[:12], "--kb", "box"], data).stdout
    assert "disabled" in shown and "edited" in shown
    note = json.loads(
        run(
            ["passage", "add", "问：年假能折现吗？答：不能。", "--kb", "box", "--json"], data
        ).stdout
    )
    assert note["manual"]
    assert run(["passage", "rm", note["chunk_id"], "--kb", "box"], data).returncode == 0
    wrong = run(["passage", "rm", chunk, "--kb", "box"], data)  # parsed: only disabled
    assert (
        wrong.returncode == 2 and "disable it" in wrong.stderr and "Traceback" not in wrong.stderr
    )
    missing = run(["passage", "undo", "no-such-chunk", "--kb", "box"], data)
    assert missing.returncode == 2 and "no passage" in missing.stderr


def test_an_answer_is_rated_and_exported_as_a_qa_set(kb, tmp_path):
    data, _ = kb
    asked = run(["ask", "报销要在几天内提交？", "--kb", "box", "--json"], data)
    assert asked.returncode == 0, asked.stderr
    answer_id = json.loads(asked.stdout)["answer_id"]
    rated = run(
        ["feedback", "rate", answer_id, "down", "--correct", "十五个工作日内", "--kb", "box"], data
    )
    assert rated.returncode == 0, rated.stderr
    assert "十五个工作日内" in run(["feedback", "list", "--kb", "box"], data).stdout
    out = tmp_path / "feedback.jsonl"
    exported = run(["feedback", "export", "--kb", "box", "--out", str(out)], data)
    assert exported.returncode == 0 and "kb eval" in exported.stdout, exported.stderr
    item = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert item["question"] == "报销要在几天内提交？" and item["answers"] == ["十五个工作日内"]
    bad = run(["feedback", "rate", "0" * 32, "up", "--kb", "box"], data)
    assert bad.returncode == 2 and "no answer" in bad.stderr
