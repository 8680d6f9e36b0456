"""Ratings of answers over real HTTP (issue 38, item 4): every answer carries an answer_id; 👍/👎
with a reason and a correction are stored with the question, answer, citations and configuration;
they last across a restart; bad ratings change nothing; the export is a QA set `kb eval` runs and
scores."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.servers import create_and_upload, parse_sse, running_server

HANDBOOK = (
    "# 员工手册\n\n"
    "## 年假\n\n星河科技规定：正式员工每年享有十五天带薪年假，年假可以分两次休完。\n\n"
    "## 报销\n\n差旅报销须在出差结束后十五个工作日内提交，并附上全部发票原件。\n"
)


def _settings(root: Path) -> Settings:
    return Settings(data_dir=root / "data", preload_model=False, _env_file=None)


def _upload(client: httpx.Client) -> None:
    create_and_upload(client, "手册", "handbook.md", HANDBOOK)


def _ask(client: httpx.Client, question: str) -> dict:
    reply = client.post("/ask", json={"question": question, "kb": "手册"})
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from app.web import create_app

    root = tmp_path_factory.mktemp("feedback")
    with (
        running_server(create_app(_settings(root), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=300) as client,
    ):
        _upload(client)
        yield client, root


def test_answers_are_rated_listed_and_kept(api):
    client, _ = api
    first = _ask(client, "正式员工每年有多少天带薪年假？")
    assert len(first["answer_id"]) == 32
    assert isinstance(first["weak_evidence"], bool) and isinstance(first["cut_at_length"], bool)
    if first["refused_by"] is None:  # each cited passage's sentence closest to the answer
        assert any(c["support"] for c in first["citations"]), first
        assert all(c["support"] in c["text"] for c in first["citations"]), first
    up = client.post(
        "/feedback", json={"kb": "手册", "answer_id": first["answer_id"], "rating": "up"}
    )
    assert up.status_code == 201, up.text
    stored = up.json()
    assert stored["question"] == "正式员工每年有多少天带薪年假？"
    assert stored["answer"] == first["answer"] and stored["citations"] == first["citations"]
    assert stored["config"]["model"] == first["model"] and stored["config"]["k"] >= 1

    events = parse_sse(
        client.post(
            "/ask", json={"question": "差旅报销要在几天内提交？", "kb": "手册", "stream": True}
        ).text
    )
    done = json.loads(next(data for name, data in events if name == "done"))
    assert [c["chunk_id"] for c in done["citations"]] == [
        c["chunk_id"] for c in json.loads(next(d for n, d in events if n == "citations"))
    ]
    down = client.post(
        "/feedback",
        json={
            "kb": "手册",
            "answer_id": done["answer_id"],
            "rating": "down",
            "reason": "没说工作日",
            "correct_answer": "十五个工作日内",
        },
    )
    assert down.status_code == 201, down.text
    listed = client.get("/kbs/手册/feedback").json()
    assert [r["rating"] for r in listed] == ["down", "up"]  # newest first
    assert listed[0]["correct_answer"] == "十五个工作日内" and listed[0]["reason"] == "没说工作日"


def test_bad_ratings_are_refused_and_change_nothing(api):
    client, _ = api
    before = client.get("/kbs/手册/feedback").json()
    answer_id = _ask(client, "年假可以分几次休？")["answer_id"]
    cases = [
        ({"kb": "手册", "answer_id": "0" * 32, "rating": "up"}, 404, "0000"),
        ({"kb": "没有", "answer_id": answer_id, "rating": "up"}, 404, "没有"),
        ({"kb": "手册", "answer_id": answer_id, "rating": "meh"}, 422, "rating"),
        ({"kb": "手册", "rating": "up"}, 422, "answer_id"),
    ]
    for body, status, named in cases:
        reply = client.post("/feedback", json=body)
        assert reply.status_code == status, reply.text
        assert named in reply.text
    assert client.get("/kbs/手册/feedback").json() == before


def test_the_export_is_a_qa_set_kb_eval_scores(api, tmp_path):
    client, root = api
    if len(client.get("/kbs/手册/feedback").json()) < 2:
        test_answers_are_rated_listed_and_kept(api)
    reply = client.get("/kbs/手册/feedback/export")
    assert reply.status_code == 200
    items = [json.loads(line) for line in reply.text.splitlines()]
    gold = {i["question"]: i for i in items}
    assert gold["差旅报销要在几天内提交？"]["answers"] == ["十五个工作日内"]
    assert gold["差旅报销要在几天内提交？"]["source"] == "handbook.md"
    qa = tmp_path / "feedback.jsonl"
    qa.write_text(reply.text, encoding="utf-8")
    kb = Path(sys.executable).parent / "kb"
    env = {**os.environ, "KB_DATA_DIR": str(root / "data"), "KB_PRELOAD_MODEL": "false"}
    out = tmp_path / "report"
    run = subprocess.run(
        [str(kb), "eval", str(qa), "--kb", "手册", "--retrieval-only", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["n_questions"] == len(items) >= 2
    rows = {r["question"]: r for r in report["per_question"]}
    assert rows["差旅报销要在几天内提交？"]["gold_source"] == "handbook.md"


def test_ratings_last_across_a_restart(tmp_path):
    from app.web import create_app

    with (
        running_server(create_app(_settings(tmp_path), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=300) as client,
    ):
        _upload(client)
        answer_id = _ask(client, "年假有多少天？")["answer_id"]
        body = {"kb": "手册", "answer_id": answer_id, "rating": "down", "correct_answer": "十五天"}
        assert client.post("/feedback", json=body).status_code == 201
    with (
        running_server(create_app(_settings(tmp_path), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=300) as client,
    ):
        kept = client.get("/kbs/手册/feedback").json()
        assert [(r["answer_id"], r["correct_answer"]) for r in kept] == [(answer_id, "十五天")]
