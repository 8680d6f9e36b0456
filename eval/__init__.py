"""Evaluation of retrieval and answers over QA sets (library: plain arguments only).

Public API::

load_qa_set(path) -> list[QAItem] contexts_as_documents(items) -> list[tuple[str, str]]
run_eval(items, search, answer=None, judge=None, ks=(1, 3, 5, 10), progress=None, cache_dir=None, *,
judge_model="", judge_kinds=("faithfulness", "relevance"), judge_messages=None, lang=None,
refusal_phrases=DEFAULT_REFUSAL_PHRASES, config=None) -> EvalReport write_report(report, out_dir) ->
dict[str, Path] compare_table(reports: dict[str, EvalReport]) -> str load_report(path) -> EvalReport

Metric functions live in :mod:`eval.metrics`.
"""

from .judge import JUDGE_KINDS, ChatJudge, parse_judge_score
from .metrics import DEFAULT_REFUSAL_PHRASES, exact_match, f1, hit_at_k, is_refusal, mrr
from .qa_sets import QAItem, contexts_as_documents, load_qa_set
from .report import compare_table, load_report, report_markdown, summary_markdown, write_report
from .runner import EvalReport, run_eval

__all__ = [
    "DEFAULT_REFUSAL_PHRASES",
    "JUDGE_KINDS",
    "ChatJudge",
    "EvalReport",
    "QAItem",
    "compare_table",
    "contexts_as_documents",
    "exact_match",
    "f1",
    "hit_at_k",
    "is_refusal",
    "load_qa_set",
    "load_report",
    "mrr",
    "parse_judge_score",
    "run_eval",
    "report_markdown",
    "summary_markdown",
    "write_report",
]
