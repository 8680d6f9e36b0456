"""Run an evaluation over a QA set with plain callables (no settings, no I/O but the judge cache).

``search(question, k)`` returns hits ``{"text", "score", "source", "page", "doc_id"}``
best first. ``answer(question)`` returns ``{"answer", "citations", "timings",
"model"}``; leave it out for a retrieval-only run. ``judge(messages)`` returns
the judge model's text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from . import metrics
from .judge import JUDGE_KINDS, JudgeCache, MessageBuilder, default_message_builder, judge_answer
from .qa_sets import QAItem

SearchFn = Callable[[str, int], list[dict]]
AnswerFn = Callable[[str], dict]
JudgeFn = Callable[[list], str]
ProgressFn = Callable[[int, int], None]

_JUDGE_CONTEXT_HITS = 5


@dataclass
class EvalReport:
    summary: dict[str, Any]
    per_question: list[dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalReport:
        return cls(
            summary=dict(data.get("summary", {})),
            per_question=list(data.get("per_question", [])),
            config=dict(data.get("config", {})),
            wall_s=float(data.get("wall_s", 0.0)),
        )


def run_eval(
    items: Sequence[QAItem],
    search: SearchFn,
    answer: AnswerFn | None = None,
    judge: JudgeFn | None = None,
    ks: Sequence[int] = (1, 3, 5, 10),
    progress: ProgressFn | None = None,
    cache_dir: str | None = None,
    *,
    judge_model: str = "",
    judge_kinds: Sequence[str] = JUDGE_KINDS,
    judge_messages: MessageBuilder | None = None,
    lang: str | None = None,
    refusal_phrases: Sequence[str] = metrics.DEFAULT_REFUSAL_PHRASES,
    config: Mapping[str, Any] | None = None,
) -> EvalReport:
    """Evaluate retrieval (always), answers (when ``answer`` is given) and judge
    scores (when ``judge`` is given too). ``judge_model`` names the judge model
    in the cache key; ``judge_messages(kind, question, answer, context, lang)``
    replaces the ``prompts`` package's judge prompt builder."""
    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 1:
        raise ValueError(f"ks must be positive integers, got {ks}")
    k_max = ks[-1]
    cache = JudgeCache(cache_dir)
    build_messages = judge_messages or default_message_builder
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    judge_calls = 0
    for index, item in enumerate(items, start=1):
        row = _retrieval_row(item, search, k_max)
        if answer is not None:
            row.update(_answer_row(item, answer, refusal_phrases))
            if judge is not None and row.get("prediction"):
                context = row.pop("_judge_context") or _hits_context(row.get("_hits", []))
                row["judge"], calls = judge_answer(
                    judge,
                    item.question,
                    row["prediction"],
                    context,
                    kinds=judge_kinds,
                    model=judge_model,
                    lang=lang,
                    cache=cache,
                    build_messages=build_messages,
                )
                judge_calls += calls
        row.pop("_judge_context", None)
        row.pop("_hits", None)
        rows.append(row)
        if progress is not None:
            progress(index, len(items))
    summary = summarize(
        rows, ks, answers_run=answer is not None, judge_kinds=judge_kinds if judge else ()
    )
    if judge is not None:
        summary["judge"]["calls"] = judge_calls
    mode = "retrieval" if answer is None else ("answer+judge" if judge is not None else "answer")
    run_config = {"eval_mode": mode, "ks": ks, "n_questions": len(rows)}
    if judge is not None:
        run_config["judge_model"] = judge_model
    run_config.update(config or {})
    return EvalReport(summary, rows, run_config, round(time.perf_counter() - started, 3))


def _retrieval_row(item: QAItem, search: SearchFn, k_max: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": item.id,
        "question": item.question,
        "answers": list(item.answers),
        "answerable": item.answerable,
        "gold_source": item.source,
        "gold_page": item.page,
    }
    t0 = time.perf_counter()
    try:
        hits = list(search(item.question, k_max))[:k_max]
    except Exception as exc:  # one failing question must not end a long run
        hits, row["search_error"] = [], f"{type(exc).__name__}: {exc}"
    row["search_ms"] = round((time.perf_counter() - t0) * 1000, 3)
    scored = item.answerable  # unanswerable questions have no gold passage to find
    row["rank"] = (
        metrics.first_hit_rank(hits, item.answers, item.source, item.page) if scored else None
    )
    row["retrieval_scored"] = scored
    if item.page is not None:
        row["page_rank"] = metrics.first_page_rank(hits, item.page, item.source)
    row["retrieved"] = [
        {"source": h.get("source"), "page": h.get("page"), "score": h.get("score")} for h in hits
    ]
    row["_hits"] = hits
    return row


def _answer_row(item: QAItem, answer: AnswerFn, refusal_phrases: Sequence[str]) -> dict[str, Any]:
    error = None
    try:
        result = answer(item.question) or {}
    except Exception as exc:  # scored as an empty (wrong) answer and reported
        result, error = {}, f"{type(exc).__name__}: {exc}"
    prediction = str(result.get("answer") or "")
    citations = list(result.get("citations") or [])
    row = {
        "prediction": prediction,
        "refused": metrics.is_refusal(prediction, refusal_phrases),
        "em": metrics.exact_match(prediction, item.answers, refusal_phrases),
        "f1": metrics.f1(prediction, item.answers, refusal_phrases),
        "contains": metrics.contains_answer(prediction, item.answers, refusal_phrases),
        "citation_hit": (
            metrics.first_hit_rank(citations, item.answers, item.source, item.page) is not None
            if item.answerable
            else None
        ),
        "n_citations": len(citations),
        # fragment answers the model gave (answering.fragments)
        "fragments": int(result.get("fragments") or 0),
        # cut where it started repeating itself
        "repetition_cut": bool(result.get("repetition_cut")),
        "timings": dict(result.get("timings") or {}),
        "model": result.get("model"),
        # what decided a refusal, when the answer function says (answering.Answer)
        "confidence": result.get("confidence"),
        "refused_by": result.get("refused_by"),
        "signals": dict(result.get("signals") or {}),
        "_judge_context": _citations_context(citations),
    }
    if error is not None:
        row["answer_error"] = error
    return row


def _citations_context(citations: Iterable[Mapping]) -> str:
    parts = [
        f"[{c.get('n', i)}] {c.get('text') or ''}".strip() for i, c in enumerate(citations, start=1)
    ]
    return "\n\n".join(p for p in parts if p)


def _hits_context(hits: Sequence[Mapping]) -> str:
    return _citations_context(hits[:_JUDGE_CONTEXT_HITS])


def summarize(
    rows: Sequence[Mapping[str, Any]],
    ks: Sequence[int],
    answers_run: bool,
    judge_kinds: Sequence[str] = (),
) -> dict[str, Any]:
    """Aggregate per-question rows into the report summary."""
    scored = [r for r in rows if r.get("retrieval_scored")]
    ranks = [r.get("rank") for r in scored]
    retrieval: dict[str, Any] = {"n": len(scored)}
    for k in ks:
        retrieval[f"hit@{k}"] = metrics.hit_at_k(ranks, k)
    retrieval["mrr"] = metrics.mrr(ranks)
    paged = [r for r in rows if r.get("gold_page") is not None]
    if paged:
        for k in ks:
            retrieval[f"page_recall@{k}"] = metrics.hit_at_k([r.get("page_rank") for r in paged], k)
    search_ms = [r["search_ms"] for r in rows if r.get("search_ms") is not None]
    retrieval["search_ms_p50"] = metrics.percentile(search_ms, 50)
    retrieval["search_ms_p95"] = metrics.percentile(search_ms, 95)
    summary: dict[str, Any] = {
        "n_questions": len(rows),
        "n_answerable": sum(1 for r in rows if r.get("answerable")),
        "n_unanswerable": sum(1 for r in rows if not r.get("answerable")),
        "n_errors": sum(1 for r in rows if "search_error" in r or "answer_error" in r),
        "retrieval": retrieval,
    }
    if answers_run:
        summary["answers"] = _answer_summary(rows)
        summary["latency"] = metrics.latency_summary(r.get("timings") or {} for r in rows)
        # refusals of out-of-KB questions often skip the model: latency of the answered ones alone
        summary["latency_answerable"] = metrics.latency_summary(
            r.get("timings") or {} for r in rows if r.get("answerable")
        )
    if judge_kinds:
        judged = [r for r in rows if r.get("judge")]
        judge: dict[str, Any] = {"n": len(judged)}
        for kind in judge_kinds:
            judge[kind] = metrics.mean(r["judge"].get(kind) for r in judged)
        summary["judge"] = judge
    return summary


def _answer_summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    answered = [r for r in rows if "em" in r]
    answerable = [r for r in answered if r.get("answerable")]
    result: dict[str, Any] = {
        "n": len(answered),
        "em": metrics.mean(r["em"] for r in answered),
        "f1": metrics.mean(r["f1"] for r in answered),
        "contains": metrics.mean(r["contains"] for r in answered),
        "em_answerable": metrics.mean(r["em"] for r in answerable),
        "f1_answerable": metrics.mean(r["f1"] for r in answerable),
        "contains_answerable": metrics.mean(r["contains"] for r in answerable),
        # answerable questions the system refused: the cost of a cautious refusal rule
        "refused_answerable": metrics.mean(float(bool(r.get("refused"))) for r in answerable),
        "citation_hit": metrics.mean(float(r["citation_hit"]) for r in answerable),
        # answers the model first gave as a fragment ("[1]", a name's first character), and those
        # that stayed one after the retry; answers cut where the model started saying them again
        "fragment_answers": sum(1 for r in answered if r.get("fragments")),
        "fragments_left": sum(1 for r in answered if (r.get("fragments") or 0) > 1),
        "repetition_cut": sum(1 for r in answered if r.get("repetition_cut")),
    }
    result.update(
        metrics.refusal_scores(
            [bool(r.get("refused")) for r in answered], [not r.get("answerable") for r in answered]
        )
    )
    return result
