"""A knowledge base built with one embedding model and opened with another: every door says so,
naming both models and the remedy, and `kb reembed` moves it to the configured model, resuming
after a SIGKILL while searches go on using the old vectors (issue 39, items 1 and 2).

The knowledge base is built with all-MiniLM-L6-v2 (KB_EMBEDDING=sentence_transformers) and opened
with the default multilingual-e5-small: both have 384 dimensions."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import running_server, seeded_settings

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

KB = str(Path(sys.executable).parent / "kb")
NAME = "手册"
MINILM = {"KB_EMBEDDING": "sentence_transformers"}
HANDBOOK = "# 年假\n\n星河科技的正式员工每年享有十五天带薪年假，入职满一年后生效。\n"
TOPICS = ["报销", "考勤", "培训", "设备", "差旅", "安全", "保密", "采购"]


def kb(*args, data: Path, env: dict | None = None):
    full_env = {**os.environ, "KB_DATA_DIR": str(data), "KB_PRELOAD_MODEL": "false", **(env or {})}
    return subprocess.run([KB, *args], capture_output=True, text=True, env=full_env, timeout=600)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("embedding-doors")
    (root / "handbook.md").write_text(HANDBOOK, encoding="utf-8")
    rules = [  # one passage each (~330 characters): 200 passages, seven batches to re-embed
        f"第{n}条 {TOPICS[n % len(TOPICS)]}规定：部门{n}的员工在第{n}个工作日前提交"
        f"{TOPICS[n % len(TOPICS)]}申请，经理在{n % 7 + 1}天内审批，逾期自动转交人事部门处理。" * 5
        for n in range(1, 201)
    ]
    (root / "rules.txt").write_text("\n\n".join(rules), encoding="utf-8")
    seeded = seeded_settings(root, "# 指南\n\n上传文档后即可提问。\n")  # the REST test's data dir
    built = kb(
        "ingest",
        str(root / "handbook.md"),
        str(root / "rules.txt"),
        "--kb",
        NAME,
        "--json",
        data=seeded.data_dir,
        env=MINILM,
    )
    assert built.returncode == 0, built.stderr
    assert {f["status"] for f in json.loads(built.stdout)["files"]} == {"indexed"}
    return seeded.data_dir


def test_the_cli_names_both_models_and_the_remedy(data):
    listed = json.loads(kb("kbs", "--json", data=data).stdout)
    assert listed[0]["embedding"].startswith("sentence_transformers: ")
    found = kb("search", "年假有几天", "--kb", NAME, data=data)
    assert found.returncode == 3 and "Traceback" not in found.stderr
    assert "sentence_transformers" in found.stderr and "multilingual-e5-small" in found.stderr
    assert "kb reembed" in found.stderr and "KB_EMBEDDING" in found.stderr
    assert kb("search", "年假有几天", "--kb", NAME, data=data, env=MINILM).returncode == 0


def test_rest_answers_409_naming_both_models(data):
    from app.web import create_app

    settings = seeded_settings(data.parent, "# 指南\n\n上传文档后即可提问。\n", preload_model=False)
    with running_server(create_app(settings, with_ui=False)) as base:
        with httpx.Client(base_url=base, timeout=120) as client:
            found = client.post("/search", json={"kb": NAME, "query": "年假有几天"})
            assert found.status_code == 409, found.text
            detail = found.json()["detail"]
            assert "all-MiniLM" in detail or "minilm" in detail.lower()
            assert "multilingual-e5-small" in detail and "kb reembed" in detail
            docs = client.get(f"/kbs/{NAME}/documents")
            assert docs.status_code == 409 and "multilingual-e5-small" in docs.json()["detail"]
            listed = {k["name"]: k for k in client.get("/kbs").json()}
            assert listed[NAME]["embedding"].startswith("sentence_transformers: ")


def test_mcp_gives_a_tool_error_naming_both_models(data):
    from app.mcp import build_server
    from app.operations import Operations
    from tests.test_mcp import mcp_session

    settings = seeded_settings(data.parent, "# 指南\n\n上传文档后即可提问。\n", preload_model=False)
    ops = Operations.from_settings(settings)
    try:
        with mcp_session(build_server(ops)) as session:
            message = session.error("search", query="年假有几天", kb=NAME)
    finally:
        ops.knowledge.shutdown()
    assert "multilingual-e5-small" in message and "sentence_transformers" in message
    assert "kb reembed" in message


def test_reembed_resumes_after_a_sigkill_and_swaps_at_once(data):
    env = {**os.environ, "KB_DATA_DIR": str(data), "KB_PRELOAD_MODEL": "false"}
    run = subprocess.Popen(
        [KB, "reembed", NAME], stdout=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    first = run.stdout.readline()  # after the first batch of passages is written
    os.killpg(run.pid, signal.SIGKILL)
    run.wait(30)
    assert "embedding passages: " in first, first
    # killed midway: the old model still searches the old vectors, the new one is still refused
    old = kb("search", "年假有几天", "--kb", NAME, "--json", data=data, env=MINILM)
    assert old.returncode == 0 and json.loads(old.stdout)["hits"][0]["source"] == "handbook.md"
    assert kb("search", "年假有几天", "--kb", NAME, data=data).returncode == 3

    resumed = kb("reembed", NAME, "--json", data=data)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["changed"] and 0 < result["embedded"] < result["passages"]  # the rest was done
    found = kb("search", "年假有几天", "--kb", NAME, "--json", data=data)
    assert found.returncode == 0 and json.loads(found.stdout)["hits"][0]["source"] == "handbook.md"
    assert kb("search", "年假有几天", "--kb", NAME, data=data, env=MINILM).returncode == 3
    listed = json.loads(kb("kbs", "--json", data=data).stdout)
    assert {k["name"]: k for k in listed}[NAME]["chunks"] == result["passages"]
    again = kb("reembed", NAME, data=data)
    assert again.returncode == 0 and "already embedded" in again.stdout
