"""Fit the answer-confidence threshold (``KB_MIN_SPAN_LOGPROB``) on the tuning half, from answers
bench/answers.py recorded with it unset (each answer's ``signals.span_logprob`` is read anyway):

    python -m bench.answers --halves tune --kb-size 25 --answerable 12 --out-of-kb 0 \\
        --near-miss 12 --answers DIR
    python -m bench.fit_span --answers DIR [--max-added 0.03]

A threshold t refuses every answer whose first-clause confidence is below t. The rule, fixed before
any tuning answer was read: the highest t on the grid (-0.05 down to -2.0) that turns at most
``--max-added`` of the answerable tuning questions (pooled over the files) from answered into
refused; the issue allows 0.05 refused in all on unseen data, and the relevance bars and the
model's own refusals take some of that. Only ``*.tune.*.jsonl`` files are read.
"""

import argparse
from pathlib import Path

from bench.fit_gate import load_rows

GRID = [round(-0.05 * n, 2) for n in range(1, 41)]
KINDS = ("answerable", "out_of_kb", "near_miss")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--answers", required=True, help="bench/answers.py's answer files")
    ap.add_argument("--max-added", type=float, default=0.03)
    args = ap.parse_args()
    rows = load_rows(Path(args.answers))
    if not rows:
        print(f"no *.tune.*.jsonl answers under {args.answers}")
        return 1
    groups = {kind: [r for r in rows if r["kind"] == kind] for kind in KINDS}
    print(", ".join(f"{len(g)} {kind}" for kind, g in groups.items()) + " tuning questions")
    print(
        "| threshold | refused answerable | added | refused out-of-KB | refused near miss |"
        " contains |"
    )
    print("|---|---|---|---|---|---|")
    print(_row("unset", groups, None))
    chosen = None
    for t in GRID:
        added = _added(groups["answerable"], t)
        if added <= args.max_added:
            print(_row(f"{t:.2f}", groups, t))
            chosen = t if chosen is None or t > chosen else chosen
    print(f"\nchosen: {chosen} (answerable turned into refusals <= {args.max_added:.2f})")
    for label in sorted({r["kb_label"] for r in rows}):
        per_file = {k: [r for r in g if r["kb_label"] == label] for k, g in groups.items()}
        print(f"{label}: " + _row(str(chosen), per_file, chosen))
    return 0


def refused(row: dict, threshold: float | None) -> bool:
    score = (row.get("signals") or {}).get("span_logprob")
    return bool(row["refused"]) or (
        threshold is not None and score is not None and score < threshold
    )


def _added(answerable: list[dict], threshold: float) -> float:
    turned = [r for r in answerable if not r["refused"] and refused(r, threshold)]
    return len(turned) / len(answerable) if answerable else 0.0


def _rate(rows: list[dict], threshold: float | None) -> str:
    return f"{sum(refused(r, threshold) for r in rows) / len(rows):.2f}" if rows else "–"


def _row(label: str, groups: dict, threshold: float | None) -> str:
    answerable = groups["answerable"]
    right = [r for r in answerable if r.get("contains") and not refused(r, threshold)]
    added = _added(answerable, threshold) if threshold is not None else 0.0
    contains = f"{len(right) / len(answerable):.2f}" if answerable else "–"
    cells = [_rate(answerable, threshold), f"{added:.2f}", _rate(groups["out_of_kb"], threshold)]
    cells += [_rate(groups["near_miss"], threshold), contains]
    return f"| {label} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    raise SystemExit(main())
