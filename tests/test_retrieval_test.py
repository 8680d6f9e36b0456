"""The retrieval test over real HTTP, the `kb` CLI and MCP's search: the ranked passages with each
signal that ranked them under its own name, and what the answer step would decide before any model
runs, and why. No model is called (the local model is not even loaded)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import running_server, seeded_settings, wait_seeded

HANDBOOK = """# 员工手册

## 年假

正式员工每年享有十五天带薪年假，年假可以分两次休完，未休完的年假可顺延至次年三月。

## 报销

差旅报销须在出差结束后三十天内提交，附上发票和行程单，由部门负责人审批。

## 门禁

员工凭工牌进出园区，访客须在前台登记并由接待人陪同。
"""
KB = Path(sys.executable).parent / "kb"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from app.web import create_app

    root = tmp_path_factory.mktemp("retrieval-test")
    settings = seeded_settings(root, HANDBOOK, preload_model=False)
    with running_server(create_app(settings, with_ui=False)) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            wait_seeded(client)
            yield client, settings


def explain(client, **body) -> dict:
    reply = client.post("/search", json={"kb": "guide", "explain": True, **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_each_hit_carries_the_signals_that_ranked_it(served):
    client, _ = served
    found = explain(client, query="年假可以顺延吗", k=3)
    top = found["hits"][0]
    assert "年假" in top["text"]
    signals = top["signals"]
    assert 0 < signals["dense_score"] <= 1 and signals["dense_rank"] >= 1
    assert signals["keyword_rank"] >= 1 and signals["keyword_score"] > 0
    assert signals["fused_score"] > 0
    assert found["options"]["k"] == 3 and found["options"]["mode"] == "hybrid"
    assert found["decision"]["question_lang"] == "zh"
    # without explain the answer keeps its old shape
    plain = client.post("/search", json={"kb": "guide", "query": "年假可以顺延吗"}).json()
    assert plain["hits"][0]["signals"] is None and plain["decision"] is None


def test_a_passage_that_clears_the_bar_would_be_answered(served):
    client, settings = served
    decision = explain(client, query="正式员工每年享有几天带薪年假？")["decision"]
    assert decision["refused_by"] is None, decision
    assert decision["bar"] == settings.min_dense_score
    assert decision["best_dense_score"] >= decision["bar"]


def test_the_bar_of_the_language_pair_is_named(served):
    client, settings = served
    decision = explain(client, query="How many days of paid annual leave do employees get?")[
        "decision"
    ]
    assert decision["question_lang"] == "en" and decision["best_dense_lang"] == "zh"
    assert decision["bar"] == settings.min_cross_lingual_score
    if decision["refused_by"] == "relevance":
        assert str(decision["bar"]) in decision["reason"]


def test_nothing_in_scope_is_refused_by_relevance(served):
    client, _ = served
    found = explain(client, query="年假", doc_ids=["no-such-document"])
    assert found["hits"] == []
    assert found["decision"]["refused_by"] == "relevance"
    assert found["decision"]["reason"] == "no passage found"


def test_keyword_mode_shows_no_dense_signal_and_no_bar(served):
    client, _ = served
    found = explain(client, query="工牌 访客", mode="keyword")
    assert found["hits"], found
    assert all("dense_score" not in h["signals"] for h in found["hits"])
    assert "keyword_rank" in found["hits"][0]["signals"]
    assert found["decision"]["bar"] is None


def test_a_structure_question_is_named(served):
    client, _ = served
    found = explain(client, query="这本书有哪些章节？")
    assert found["structure_question"]["kind"] == "outline"


def test_the_cli_explains_too(served):
    _, settings = served
    env = {**os.environ, "KB_DATA_DIR": str(settings.data_dir), "KB_PRELOAD_MODEL": "false"}
    args = [str(KB), "search", "年假可以顺延吗", "--kb", "guide", "--explain"]
    shown = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert shown.returncode == 0, shown.stderr
    assert "cos" in shown.stdout and "rrf" in shown.stdout and "answer step:" in shown.stdout
    as_json = subprocess.run(
        [*args, "--json"], capture_output=True, text=True, env=env, timeout=300
    )
    found = json.loads(as_json.stdout)
    assert found["hits"][0]["signals"]["dense_rank"] >= 1
    assert found["decision"]["refused_by"] in (None, "relevance", "names")
