"""run_eval end to end with test doubles for search / answer / judge, and the report files."""

import json
import re
from pathlib import Path

import pytest

from eval import EvalReport, compare_table, load_report, parse_judge_score, run_eval, write_report
from eval.metrics import answer_tokens
from eval.qa_sets import QAItem, contexts_as_documents, load_qa_set

SAMPLES = Path(__file__).resolve().parent.parent / "eval" / "samples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def overlap_search(documents):
    """Test double for the search callable: sentence chunks ranked by token overlap."""
    chunks = []
    for name, text in documents:
        body = text.split("\n\n", 1)[1]
        for sentence in re.split(r"(?<=[。.;；])\s*", body):
            if sentence.strip():
                chunks.append(
                    {
                        "text": sentence,
                        "source": name,
                        "page": None,
                        "doc_id": f"{name}#{len(chunks)}",
                    }
                )

    def search(question, k):
        query = set(answer_tokens(question, cjk=None))
        scored = [(len(query & set(answer_tokens(c["text"]))), i, c) for i, c in enumerate(chunks)]
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [dict(c, score=float(s)) for s, _, c in scored[:k]]

    return search


def scripted_search(hits_by_question):
    return lambda question, k: hits_by_question[question][:k]


def _items():
    return [
        QAItem(id="a", question="qa", answers=["Denver Broncos"]),
        QAItem(id="b", question="qb", answers=["1894"]),
        QAItem(id="c", question="qc", answers=["nowhere"], source="gold.md"),
        QAItem(id="d", question="qd", answers=["missing"]),
        QAItem(id="e", question="qe", answers=[]),
    ]


HITS = {
    "qa": [{"text": "The Denver Broncos won.", "source": "x.md"}],
    "qb": [{"text": "no"}, {"text": "no"}, {"text": "built in 1894."}],
    "qc": [{"text": "no", "source": "other.md"}, {"text": "no", "source": "kb/gold.md"}],
    "qd": [{"text": "no"}] * 10,
    "qe": [{"text": "The Denver Broncos won."}],
}


def test_retrieval_only_summary_is_hand_checked():
    calls = []
    report = run_eval(
        _items(),
        scripted_search(HITS),
        ks=(5, 1, 3),
        progress=lambda i, n: calls.append((i, n)),
        config={"kb": "demo", "mode": "hybrid"},
    )
    retrieval = report.summary["retrieval"]
    # ranks 1, 3, 2, miss over 4 answerable questions; the unanswerable one is not scored
    assert retrieval["n"] == 4
    assert (retrieval["hit@1"], retrieval["hit@3"], retrieval["hit@5"]) == (0.25, 0.75, 0.75)
    assert retrieval["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 4)
    assert [r["rank"] for r in report.per_question] == [1, 3, 2, None, None]
    assert report.summary["n_unanswerable"] == 1 and "answers" not in report.summary
    assert report.config["eval_mode"] == "retrieval" and report.config["ks"] == [1, 3, 5]
    assert report.config["kb"] == "demo" and report.config["mode"] == "hybrid"
    assert calls == [(i, 5) for i in range(1, 6)]


def test_retrieval_over_generated_contexts_finds_every_answerable_question():
    items = load_qa_set(SAMPLES / "sample_en.jsonl")
    search = overlap_search(contexts_as_documents(items))
    report = run_eval(items, search, ks=(1, 3, 10))
    retrieval = report.summary["retrieval"]
    assert retrieval["n"] == 9  # 11 questions, 2 unanswerable
    assert retrieval["hit@10"] == 1.0  # any chunk of the gold file counts as a hit
    assert retrieval["hit@1"] <= retrieval["hit@3"] <= retrieval["hit@10"]
    assert 0 < retrieval["mrr"] <= 1
    first = report.per_question[0]
    assert first["gold_source"] == "Harbor_Point_Lighthouse.md" and len(first["retrieved"]) == 10


def test_chinese_sample_retrieval_with_page_and_errors():
    items = load_qa_set(SAMPLES / "sample_zh.jsonl")
    search = overlap_search(contexts_as_documents(items))

    def flaky(question, k):
        if "白鹭洲" in question or "小岛" in question:
            raise RuntimeError("store offline")
        return search(question, k)

    report = run_eval(items, flaky, ks=(1, 5))
    assert report.summary["n_errors"] == 1
    broken = next(r for r in report.per_question if "search_error" in r)
    assert broken["rank"] is None and "store offline" in broken["search_error"]
    assert report.summary["retrieval"]["hit@5"] == pytest.approx(7 / 8)


def test_page_recall_when_pages_are_given():
    items = [
        QAItem(id="1", question="q1", answers=["zzz"], page=2),
        QAItem(id="2", question="q2", answers=["yyy"], page=5),
    ]
    hits = {
        "q1": [{"text": "a", "page": 1}, {"text": "b", "page": 2}],
        "q2": [{"text": "c", "page": 4}],
    }
    summary = run_eval(items, scripted_search(hits), ks=(1, 2)).summary["retrieval"]
    assert summary["page_recall@1"] == 0.0 and summary["page_recall@2"] == 0.5
    assert summary["hit@2"] == 0.5  # page match counts as a gold hit when no source is given


def fake_answer(question):
    answers = {
        "qa": (
            "The Denver Broncos [1].",
            [{"n": 1, "source": "x.md", "text": "The Denver Broncos won."}],
            100,
        ),
        "qb": ("It was built in 1894.", [], 300),
        "qc": ("知识库中没有找到与该问题相关的内容。", [], 200),
        "qd": ("missing", [{"n": 1, "text": "missing link"}], 400),
        "qe": ("The knowledge base does not contain information about this question.", [], 500),
    }
    text, citations, total = answers[question]
    return {
        "answer": text,
        "citations": citations,
        "timings": {"retrieve_ms": 10, "total_ms": total},
        "model": "fake",
    }


def test_answer_mode_em_f1_refusals_latency():
    report = run_eval(_items(), scripted_search(HITS), answer=fake_answer)
    answers = report.summary["answers"]
    rows = {r["id"]: r for r in report.per_question}
    assert [rows[i]["em"] for i in "abcde"] == [1.0, 0.0, 0.0, 1.0, 1.0]
    # qb: pred {it, was, built, in, 1894} vs {1894}: P=1/5, R=1 -> 1/3
    assert rows["b"]["f1"] == pytest.approx(1 / 3)
    assert answers["em"] == pytest.approx(3 / 5)
    assert answers["f1"] == pytest.approx((1 + 1 / 3 + 0 + 1 + 1) / 5)
    assert answers["em_answerable"] == pytest.approx(2 / 4)
    assert answers["contains"] == pytest.approx(4 / 5)
    assert answers["citation_hit"] == pytest.approx(2 / 4)
    assert (answers["refusal_precision"], answers["refusal_recall"]) == (0.5, 1.0)
    assert report.summary["latency"]["total_ms"] == {
        "n": 5,
        "p50": 300.0,
        "p95": pytest.approx(480.0),
    }
    assert report.config["eval_mode"] == "answer"


def test_fragment_answers_and_repetition_cuts_are_counted():
    def shaped(question):
        result = fake_answer(question)
        extra = {"qa": {"fragments": 1}, "qb": {"fragments": 2}, "qd": {"repetition_cut": True}}
        return {**result, **extra.get(question, {})}

    report = run_eval(_items(), scripted_search(HITS), answer=shaped)
    answers = report.summary["answers"]
    assert (answers["fragment_answers"], answers["fragments_left"], answers["repetition_cut"]) == (
        2,
        1,
        1,
    )
    assert {r["id"]: r["fragments"] for r in report.per_question} == {
        "a": 1,
        "b": 2,
        "c": 0,
        "d": 0,
        "e": 0,
    }


def test_answer_errors_count_as_wrong_answers():
    def broken(question):
        raise TimeoutError("llm down")

    report = run_eval(_items()[:2], scripted_search(HITS), answer=broken)
    assert report.summary["n_errors"] == 2 and report.summary["answers"]["em"] == 0.0
    assert "llm down" in report.per_question[0]["answer_error"]


def build_messages(kind, question, answer, context, lang):
    return [("system", f"judge {kind}"), ("user", f"Q: {question}\nA: {answer}\nC: {context}")]


def test_judge_scores_are_cached_on_disk(tmp_path):
    seen = []

    def judge(messages):
        seen.append(messages)
        return (
            "Score: 4/5"
            if "faithfulness" in messages[0][1]
            else '{"score": 2, "reason": "partial"}'
        )

    kwargs = dict(
        answer=fake_answer,
        judge=judge,
        cache_dir=str(tmp_path / "cache"),
        judge_model="judge-a",
        judge_messages=build_messages,
    )
    first = run_eval(_items(), scripted_search(HITS), **kwargs)
    assert len(seen) == 10 and first.summary["judge"]["calls"] == 10
    assert (
        first.summary["judge"]["faithfulness"] == 4.0 and first.summary["judge"]["relevance"] == 2.0
    )
    assert "C: [1] The Denver Broncos won." in seen[0][1][1]  # citations are the judge's context
    assert "C: [1] no" in seen[2][1][1]  # no citations: the retrieved hits are

    second = run_eval(_items(), scripted_search(HITS), **kwargs)
    assert len(seen) == 10 and second.summary["judge"]["calls"] == 0
    assert [r["judge"] for r in second.per_question] == [r["judge"] for r in first.per_question]

    run_eval(_items()[:1], scripted_search(HITS), **{**kwargs, "judge_model": "judge-b"})
    assert len(seen) == 12  # another judge model is another cache key


def test_unparsable_judge_reply_is_none_and_not_cached(tmp_path):
    replies = iter(["no idea", "still none", "5", "5"])
    kwargs = dict(
        answer=fake_answer,
        judge=lambda m: next(replies),
        cache_dir=str(tmp_path),
        judge_messages=build_messages,
    )
    first = run_eval(_items()[:1], scripted_search(HITS), **kwargs)
    assert first.per_question[0]["judge"] == {"faithfulness": None, "relevance": None}
    assert first.summary["judge"]["faithfulness"] is None
    second = run_eval(_items()[:1], scripted_search(HITS), **kwargs)
    assert second.per_question[0]["judge"] == {"faithfulness": 5, "relevance": 5}


@pytest.mark.parametrize(
    "reply, score",
    [
        ("4", 4),
        ("Score: 3/5", 3),
        ('{"score": 5, "reason": "ok"}', 5),
        ('```json\n{"score": "2"}\n```', 2),
        ("评分：1分", 1),
        ("10 out of 10", None),
        ("3.5", None),
        ("", None),
        ('{"score": 9} but 2', 2),
        ('{"score": <integer 1-5>, "reason": "<one sentence>"}', None),
        ("15 out of 10", None),
        ("no idea", None),
        ("Score: 3. Partly supported.", 3),
    ],
)
def test_parse_judge_score(reply, score):
    assert parse_judge_score(reply) == score


def test_default_judge_prompts_come_from_prompts_package():
    prompts = pytest.importorskip("prompts")
    if not hasattr(prompts, "judge_messages"):
        pytest.skip("prompts.judge_messages not available")
    pytest.importorskip("langchain_core")
    seen = []
    run_eval(
        _items()[:1],
        scripted_search(HITS),
        answer=fake_answer,
        judge=lambda messages: seen.append(messages) or "4",
    )
    assert len(seen) == 2 and all(hasattr(m, "content") for m in seen[0])
    assert any("Denver Broncos" in m.content for m in seen[0])


# ---------------------------------------------------------------- reports


def test_write_report_files_and_markdown(tmp_path):
    report = run_eval(_items(), scripted_search(HITS), answer=fake_answer, config={"kb": "demo"})
    paths = write_report(report, tmp_path / "out")
    assert set(paths) == {"json", "markdown", "hit_at_k", "latency", "scores"}
    for key in ("hit_at_k", "latency", "scores"):
        data = paths[key].read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000
    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert "| hit@1 | hit@3 | hit@5 | hit@10 | mrr |" in markdown
    assert "| 0.250 | 0.750 | 0.750 | 0.750 | 0.458 |" in markdown
    assert "## Answers" in markdown and "## Latency (ms)" in markdown
    assert "| total_ms | 5 | 300.000 | 480.000 |" in markdown
    assert "Retrieval misses (1)" in markdown
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["summary"]["answers"][
        "em"
    ] == pytest.approx(0.6)
    assert load_report(paths["json"]) == report


def test_retrieval_only_report_has_no_latency_plot(tmp_path):
    paths = write_report(run_eval(_items(), scripted_search(HITS)), tmp_path)
    assert "latency" not in paths and not (tmp_path / "latency.png").exists()
    assert paths["scores"].read_bytes().startswith(PNG_MAGIC)
    assert "## Answers" not in paths["markdown"].read_text(encoding="utf-8")


def test_compare_table_marks_the_best_configuration():
    def report(hit1, mrr, p50):
        return EvalReport(
            summary={"retrieval": {"hit@1": hit1, "mrr": mrr, "search_ms_p50": p50}},
            per_question=[],
        )

    table = compare_table({"dense": report(0.5, 0.6, 30.0), "hybrid": report(0.7, 0.6, 45.0)})
    lines = table.strip().splitlines()
    assert lines[0] == "| config | hit@1 | mrr | search_ms_p50 |"
    assert lines[2] == "| dense | 0.500 | 0.600 | **30.000** |"
    assert lines[3] == "| hybrid | **0.700** | 0.600 | 45.000 |"  # ties are not bolded
