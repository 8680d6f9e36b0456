"""The report's PNG plots: hit@k, latency, judge scores. matplotlib's object API (``Figure`` + Agg
canvas): no pyplot global state, no display."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .runner import EvalReport


def format_value(value: Any) -> str:
    """A metric as the report shows it (the Markdown tables use the same)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def _new_figure(width: float = 6.0, height: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _save(figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, format="png")
    return path


def plot_hit_at_k(report: EvalReport, path: Path) -> Path:
    retrieval = report.summary.get("retrieval", {})
    figure = _new_figure()
    axes = figure.add_subplot()
    for prefix, label in (("hit@", "hit@k"), ("page_recall@", "page recall@k")):
        points = sorted(
            (int(k[len(prefix) :]), v)
            for k, v in retrieval.items()
            if k.startswith(prefix) and v is not None
        )
        if points:
            axes.plot([k for k, _ in points], [v for _, v in points], marker="o", label=label)
            axes.set_xticks([k for k, _ in points])
    axes.set_xlabel("k")
    axes.set_ylabel("share of questions")
    axes.set_ylim(0, 1.05)
    axes.set_title(f"Retrieval hit@k (MRR {format_value(retrieval.get('mrr'))})")
    axes.grid(True, alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend()
    return _save(figure, path)


def plot_latency(report: EvalReport, path: Path) -> Path | None:
    totals = [
        r["timings"]["total_ms"]
        for r in report.per_question
        if (r.get("timings") or {}).get("total_ms") is not None
    ]
    if not totals:
        return None
    figure = _new_figure()
    axes = figure.add_subplot()
    axes.hist(totals, bins=min(30, max(5, len(totals) // 2)))
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_xlabel("total time per answer (ms)")
    axes.set_ylabel("questions")
    axes.set_title(f"Answer latency (n={len(totals)})")
    return _save(figure, path)


def plot_scores(report: EvalReport, path: Path) -> Path:
    rows = report.per_question
    f1_scores = [r["f1"] for r in rows if r.get("f1") is not None]
    figure = _new_figure(10.0 if f1_scores else 6.0, 4.0)
    axes = figure.add_subplot(1, 2 if f1_scores else 1, 1)
    k_max = max(report.config.get("ks") or [10])
    counts = Counter(r.get("rank") for r in rows if r.get("retrieval_scored"))
    labels = [str(k) for k in range(1, k_max + 1)] + ["miss"]
    axes.bar(labels, [counts.get(k, 0) for k in range(1, k_max + 1)] + [counts.get(None, 0)])
    axes.yaxis.set_major_locator(_integer_ticks())
    axes.set_xlabel("rank of first gold hit")
    axes.set_ylabel("questions")
    axes.set_title("Retrieval rank distribution")
    if f1_scores:
        axes = figure.add_subplot(1, 2, 2)
        axes.hist(f1_scores, bins=10, range=(0, 1))
        axes.yaxis.set_major_locator(_integer_ticks())
        axes.set_xlabel("F1 per question")
        axes.set_ylabel("questions")
        axes.set_title("Answer F1 distribution")
    return _save(figure, path)


def calibration_curve(rows: list[dict], steps: int = 20) -> list[dict]:
    """For thresholds on the model's refusal probability (1 - ``confidence``), what refusing at
    that threshold would do: refusal rates of answerable and unanswerable questions, and answerable
    questions answered right. A question refused already stays refused."""
    scored = [r for r in rows if r.get("confidence") is not None]
    answerable = [r for r in scored if r.get("answerable")]
    unanswerable = [r for r in scored if not r.get("answerable")]

    def refused(row: dict, threshold: float) -> bool:
        return bool(row.get("refused")) or 1.0 - row["confidence"] >= threshold

    def share(group: list[dict], test, t: float) -> float | None:
        return sum(1 for r in group if test(r, t)) / len(group) if group else None

    def right(row: dict, t: float) -> bool:
        return not refused(row, t) and bool(row.get("contains"))

    return [
        {
            "threshold": n / steps,
            "answerable_refused": share(answerable, refused, n / steps),
            "unanswerable_refused": share(unanswerable, refused, n / steps),
            "answerable_right": share(answerable, right, n / steps),
        }
        for n in range(steps + 1)
    ]


def plot_calibration(report: EvalReport, path: Path) -> Path | None:
    """Refusal rates and accuracy against the refusal-probability threshold (None: no answer
    carried a confidence, e.g. a remote model or retrieval only)."""
    curve = calibration_curve(report.per_question)
    if not any(r.get("confidence") is not None for r in report.per_question):
        return None
    figure = _new_figure(6.0, 4.0)
    axes = figure.add_subplot(1, 1, 1)
    x = [c["threshold"] for c in curve]
    for key, label in (
        ("answerable_refused", "answerable refused (wrong)"),
        ("unanswerable_refused", "unanswerable refused (right)"),
        ("answerable_right", "answerable answered right"),
    ):
        y = [c[key] for c in curve]
        if all(v is not None for v in y):
            axes.plot(x, y, marker=".", label=label)
    axes.set_xlabel("refuse when the refusal probability is at least")
    axes.set_ylabel("share of questions")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title("Refusal calibration")
    axes.legend(fontsize=8)
    return _save(figure, path)
