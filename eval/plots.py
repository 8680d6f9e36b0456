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
