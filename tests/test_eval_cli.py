"""`kb eval` end to end on a tiny generated QA set: real embeddings, real local model."""

import json

import pytest
from typer.testing import CliRunner

from app.cli import app as cli_app

ITEMS = [
    {
        "id": "q1",
        "question": "When was the Harbor Point Lighthouse completed?",
        "answers": ["1894"],
        "title": "Harbor Point Lighthouse",
        "context": (
            "The Harbor Point Lighthouse was completed in 1894. It stands 31 metres tall on a"
            " granite cliff."
        ),
    },
    {
        "id": "q2",
        "question": "What do the Vellmar Orchards grow?",
        "answers": ["blue pears"],
        "title": "Vellmar Orchards",
        "context": (
            "The Vellmar Orchards grow blue pears. The harvest festival is held every October."
        ),
    },
    {
        "id": "q3",
        "question": "青岚湖中的小岛叫什么名字？",
        "answers": ["白鹭洲"],
        "title": "青岚湖",
        "context": "青岚湖面积约为12平方公里，湖中有一座名为白鹭洲的小岛。",
    },
    {
        "id": "q4",
        "question": "Who painted the Moonlit Ferry mural?",
        "answers": [],
        "title": "Harbor Point Lighthouse",
        "context": (
            "The Harbor Point Lighthouse was completed in 1894. It stands 31 metres tall on a"
            " granite cliff."
        ),
    },
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("kb-eval")
    qa = root / "tiny.jsonl"
    qa.write_text(
        "\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS) + "\n", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KB_DATA_DIR", str(root / "data"))
        mp.chdir(root)  # no stray .env; default outputs stay in the temp dir
        yield root, qa


def run(*args: str):
    return CliRunner().invoke(cli_app, ["eval", *args], catch_exceptions=False)


def test_retrieval_only_build_from_contexts(env):
    root, qa = env
    out = root / "out-retrieval"
    result = run(
        str(qa), "--kb", "tiny", "--build-from-contexts", "--retrieval-only", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    for name in ("report.json", "report.md", "hit_at_k.png", "scores.png"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    retrieval = report["summary"]["retrieval"]
    for k in (1, 3, 5, 10):
        assert isinstance(retrieval[f"hit@{k}"], float) and 0.0 <= retrieval[f"hit@{k}"] <= 1.0
    assert retrieval["hit@10"] > 0
    assert retrieval["n"] == 3  # the unanswerable question is not scored
    assert report["config"]["eval_mode"] == "retrieval" and report["config"]["kb"] == "tiny"
    retrieval = report["config"]["retrieval"]  # the full retrieval config the report was made with
    assert (
        retrieval["rrf_k"] > 0
        and retrieval["page_similarity_weights"]
        and "references_first" in retrieval
    )
    assert report["config"]["keyword_tokenizer"]
    # the Markdown summary on stdout
    assert "| hit@1 | hit@3 | hit@5 | hit@10 | mrr |" in result.stdout
    # one file per distinct context (q1 and q4 share theirs)
    contexts = sorted(p.name for p in (root / "data" / "eval-contexts" / "tiny").iterdir())
    assert contexts == ["Harbor_Point_Lighthouse.md", "Vellmar_Orchards.md", "青岚湖.md"]
    assert "3 indexed, 0 duplicate, 0 failed" in result.output

    # a rerun finds every context already indexed
    again = run(
        str(qa),
        "--kb",
        "tiny",
        "--build-from-contexts",
        "--retrieval-only",
        "--limit",
        "2",
        "--out",
        str(root / "out-again"),
    )
    assert again.exit_code == 0, again.output
    assert "0 indexed, 2 duplicate" in again.output


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such QA file"),
        ('{"id": "x", "answers": ["a"]}\n', "missing or empty 'question'"),
        ("not json at all\n", ""),
    ],
)
def test_unusable_qa_file_exits_2_with_one_line(env, content, message):
    root, _ = env
    path = root / "bad.jsonl"
    if content is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(content, encoding="utf-8")
    result = run(str(path), "--kb", "tiny", "--retrieval-only")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert "Traceback" not in result.output


def test_unusable_options_exit_2(env):
    root, qa = env
    for args in (
        ["--mode", "fuzzy"],
        ["--judge", "openai:gpt-4o-mini", "--retrieval-only"],
        ["--chunk-sizes", "200"],
        ["--compare", "--chunk-sizes", "a,b"],
        ["--limit", "0"],
        ["--judge", "bogus:model"],
        ["--provider", "bogus"],
        ["-k", "0"],
    ):
        result = run(str(qa), "--kb", "tiny", *args)
        assert result.exit_code == 2, (args, result.output)
        assert (
            result.output.strip().startswith("error: ")
            and len(result.output.strip().splitlines()) == 1
        )
    missing = run(str(qa), "--kb", "no-such-kb", "--retrieval-only")
    assert missing.exit_code == 2 and "no-such-kb" in missing.output


def test_compare_modes(env):
    root, qa = env
    out = root / "out-compare"
    result = run(
        str(qa),
        "--kb",
        "tiny",
        "--build-from-contexts",
        "--compare",
        "--limit",
        "2",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = (out / "compare.md").read_text(encoding="utf-8")
    for mode in ("dense", "keyword", "hybrid"):
        assert f"| {mode} |" in table and (out / mode / "report.json").is_file()
    assert "| config | hit@1 |" in result.stdout


def test_answer_run_with_local_model(env):
    pytest.importorskip("llama_cpp")
    root, qa = env
    out = root / "out-answers"
    result = run(
        str(qa), "--kb", "tiny", "--build-from-contexts", "--limit", "1", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))["summary"]
    for key in ("em", "f1", "contains", "citation_hit"):
        assert key in summary["answers"]
    assert 0.0 <= summary["answers"]["f1"] <= 1.0
    assert summary["latency"]["total_ms"]["n"] == 1 and summary["n_errors"] == 0
    assert (out / "latency.png").is_file()
    assert "## Answers" in result.stdout and "## Latency (ms)" in result.stdout


def test_judge_wrapper_and_spec():
    from types import SimpleNamespace

    from app.operations.evaluation import parse_model_spec
    from eval import ChatJudge as Judge

    assert parse_model_spec("openai_compatible:qwen2.5:7b") == ("openai_compatible", "qwen2.5:7b")
    assert parse_model_spec("local") == ("local", None)
    with pytest.raises(ValueError):
        parse_model_spec(":model")
    with pytest.raises(ValueError, match="unknown LLM provider"):
        parse_model_spec("nosuch:model")
    ok = Judge(
        SimpleNamespace(invoke=lambda messages: SimpleNamespace(content='{"score": 4}')),
        "fake:judge",
    )
    assert ok(["m"]) == '{"score": 4}' and ok.errors == 0

    def boom(messages):
        raise TimeoutError("judge down")

    failing = Judge(SimpleNamespace(invoke=boom), "fake:judge")
    assert failing(["m"]) == "" and failing.errors == 1 and "judge down" in failing.last_error
