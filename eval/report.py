"""Write an :class:`EvalReport` as JSON, Markdown and PNG plots; compare reports.

Plots use matplotlib's object API (``Figure`` + Agg canvas), so no pyplot
global state or display is touched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .plots import format_value as _fmt
from .plots import plot_calibration, plot_hit_at_k, plot_latency, plot_scores
from .runner import EvalReport

_LOWER_IS_BETTER_SUFFIXES = ("_ms", "_ms_p50", "_ms_p95", "wall_s")


def load_report(path: str | Path) -> EvalReport:
    """Read a ``report.json`` written by :func:`write_report`."""
    return EvalReport.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def write_report(report: EvalReport, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.json``, ``report.md`` and the plots; returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md"}
    paths["json"].write_text(
        json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    paths["markdown"].write_text(report_markdown(report), encoding="utf-8")
    paths["hit_at_k"] = plot_hit_at_k(report, out / "hit_at_k.png")
    latency = plot_latency(report, out / "latency.png")
    if latency is not None:
        paths["latency"] = latency
    paths["scores"] = plot_scores(report, out / "scores.png")
    calibration = plot_calibration(report, out / "calibration.png")
    if calibration is not None:
        paths["calibration"] = calibration
    return paths


# ---------------------------------------------------------------- markdown


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def report_markdown(report: EvalReport) -> str:
    """The whole report: settings, results and the first retrieval misses."""
    parts = ["# Evaluation report", ""]
    config_rows = [
        [key, json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value]
        for key, value in report.config.items()
    ]
    config_rows.append(["wall time (s)", report.wall_s])
    parts += [_table(["setting", "value"], config_rows), "", _questions_line(report) + ".", ""]
    parts += _result_sections(report)
    misses = [r for r in report.per_question if r.get("retrieval_scored") and r.get("rank") is None]
    if misses:
        parts += [f"## Retrieval misses ({len(misses)})", ""]
        parts += [
            _table(
                ["id", "question", "gold"],
                [
                    [r["id"], _cell(r["question"]), _cell(" / ".join(r["answers"]))]
                    for r in misses[:20]
                ],
            ),
            "",
        ]
    return "\n".join(parts)


def summary_markdown(report: EvalReport) -> str:
    """The results only (what ``kb eval`` prints): counts, wall and search time, then the result
    tables."""
    head = f"{_questions_line(report)}; wall time {report.wall_s:.1f} s."
    r = report.summary.get("retrieval", {})
    if r.get("search_ms_p50") is not None:
        head += (
            f"\nSearch time per question: p50 {r['search_ms_p50']:.0f} ms, p95"
            f" {r['search_ms_p95']:.0f} ms."
        )
    return "\n".join([head, "", *_result_sections(report)])


def _questions_line(report: EvalReport) -> str:
    s = report.summary
    return (
        f"Questions: {s.get('n_questions', 0)} ({s.get('n_answerable', 0)} answerable, "
        f"{s.get('n_unanswerable', 0)} unanswerable); errors: {s.get('n_errors', 0)}"
    )


def _result_sections(report: EvalReport) -> list[str]:
    s = report.summary
    retrieval = s.get("retrieval", {})
    parts = ["## Retrieval", "", f"Scored questions: {retrieval.get('n', 0)}.", ""]
    keys = [k for k in retrieval if k.startswith(("hit@", "page_recall@"))] + ["mrr"]
    parts += [_table(keys, [[retrieval.get(k) for k in keys]]), ""]
    if "answers" in s:
        a = s["answers"]
        keys = [
            "em",
            "f1",
            "contains",
            "em_answerable",
            "f1_answerable",
            "citation_hit",
            "refusal_precision",
            "refusal_recall",
            "n_refused",
            "n_unanswerable",
        ]
        parts += ["## Answers", "", _table(keys, [[a.get(k) for k in keys]]), ""]
        # the same figures bench/answers.py prints (answerable questions; refusals on both kinds)
        keys = [
            "contains_answerable",
            "em_answerable",
            "f1_answerable",
            "refused_answerable",
            "refusal_recall",
        ]
        if all(k in a for k in keys):
            parts += [
                _table(
                    ["contains", "em", "f1", "refused answerable", "refused out-of-KB"],
                    [[a.get(k) for k in keys]],
                ),
                "",
            ]
    if "judge" in s:
        j = s["judge"]
        kinds = [k for k in j if k not in ("n", "calls")]
        parts += [
            "## Judge (mean score, 1–5)",
            "",
            _table(
                kinds + ["judged", "judge calls"],
                [[j.get(k) for k in kinds] + [j.get("n"), j.get("calls")]],
            ),
            "",
        ]
    if "latency" in s:
        rows = [
            [stage, v.get("n"), v.get("p50"), v.get("p95")]
            for stage, v in s["latency"].items()
            if v.get("n")
        ]
        parts += ["## Latency (ms)", "", _table(["stage", "n", "p50", "p95"], rows), ""]
    if s.get("latency_answerable"):
        rows = [
            [stage, v.get("n"), v.get("p50"), v.get("p95")]
            for stage, v in s["latency_answerable"].items()
            if v.get("n")
        ]
        parts += [
            "## Latency of answerable questions (ms)",
            "",
            _table(["stage", "n", "p50", "p95"], rows),
            "",
        ]
    return parts


def _cell(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _flat_metrics(report: EvalReport) -> dict[str, Any]:
    s = report.summary
    flat: dict[str, Any] = {}
    for key, value in s.get("retrieval", {}).items():
        if key.startswith(("hit@", "page_recall@")) or key in ("mrr", "search_ms_p50"):
            flat[key] = value
    for key in ("em", "f1", "contains", "refusal_precision", "refusal_recall"):
        if key in s.get("answers", {}):
            flat[key] = s["answers"][key]
    for key, value in s.get("judge", {}).items():
        if key not in ("n", "calls"):
            flat[f"judge_{key}"] = value
    total = s.get("latency", {}).get("total_ms", {})
    if total.get("n"):
        flat["total_ms_p50"], flat["total_ms_p95"] = total.get("p50"), total.get("p95")
    return flat


def compare_table(reports: Mapping[str, EvalReport]) -> str:
    """Markdown table, one row per configuration, one column per metric; best value in bold."""
    flats = {name: _flat_metrics(report) for name, report in reports.items()}
    columns: list[str] = []
    for flat in flats.values():
        columns += [key for key in flat if key not in columns]
    best: dict[str, Any] = {}
    for column in columns:
        values = [f[column] for f in flats.values() if isinstance(f.get(column), (int, float))]
        if len(values) > 1 and len(set(values)) > 1:
            best[column] = (
                min(values) if column.endswith(_LOWER_IS_BETTER_SUFFIXES) else max(values)
            )
    lines = [
        "| config | " + " | ".join(columns) + " |",
        "|---|" + "|".join("---" for _ in columns) + "|",
    ]
    for name, flat in flats.items():
        cells = []
        for column in columns:
            value = flat.get(column)
            cell = _fmt(value)
            cells.append(f"**{cell}**" if column in best and value == best[column] else cell)
        lines.append(f"| {_cell(name, 40)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
