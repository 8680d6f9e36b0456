"""Fit the answer check's bars (``KB_MIN_ANSWER_CHECK``, ``KB_MIN_ANSWER_CHECK_EN``) on the tuning
half, from answers bench/answers.py recorded with the check asked but refusing nothing:

    python -m bench.answers --halves tune --answers DIR --set min_answer_check=0 ...
    python -m bench.fit_check --answers DIR [DIR ...] [--max-added 0.03]

After a short answer the model is asked whether a source states it; ``signals.answer_check`` is its
P(yes). A bar b refuses every checked answer below b. The rule, fixed before the tuning answers were
read: per language, the highest b on the grid (0.01 to 0.99) that turns at most ``--max-added`` of
the answerable tuning questions (rounded down to whole questions) from answered into refused; off
when that b refuses no near miss or out-of-KB question more. Only ``*.tune.*.jsonl`` files are read.
"""

import argparse
import math
from pathlib import Path

from bench.fit_gate import load_rows

GRID = [round(0.01 * n, 2) for n in range(1, 100)]
KINDS = ("answerable", "out_of_kb", "near_miss")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--answers", nargs="+", required=True, help="bench/answers.py answer folders")
    ap.add_argument("--max-added", type=float, default=0.03)
    args = ap.parse_args()
    rows = [row for folder in args.answers for row in load_rows(Path(folder))]
    if not rows:
        print(f"no *.tune.*.jsonl answers under {args.answers}")
        return 1
    for lang in ("zh", "en"):
        groups = {k: [r for r in rows if r["lang"] == lang and r["kind"] == k] for k in KINDS}
        if groups["answerable"]:
            print(report(lang, groups, args.max_added))
    return 0


def refused(row: dict, bar: float | None) -> bool:
    score = (row.get("signals") or {}).get("answer_check")
    return bool(row["refused"]) or (bar is not None and score is not None and score < bar)


def added(rows: list[dict], bar: float) -> int:
    """Questions the bar turns from answered into refused."""
    return sum(1 for r in rows if not r["refused"] and refused(r, bar))


def choose(groups: dict, max_added: float) -> float | None:
    allowed = math.floor(max_added * len(groups["answerable"]) + 1e-9)
    fitting = [b for b in GRID if added(groups["answerable"], b) <= allowed]
    best = max(fitting, default=None)
    if best is None or not added(groups["near_miss"] + groups["out_of_kb"], best):
        return None
    return best


def report(lang: str, groups: dict, max_added: float) -> str:
    counts = ", ".join(f"{len(g)} {kind}" for kind, g in groups.items())
    lines = [f"{lang}: {counts} tuning questions", ""]
    lines += [
        "| bar | refused answerable | added | right answers kept | refused out-of-KB |"
        " refused near miss |",
        "|---|---|---|---|---|---|",
        _row("off", groups, None),
    ]
    chosen = choose(groups, max_added)
    shown = sorted({b for b in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95) if b} | {chosen or 0.5})
    lines += [_row(f"{b:.2f}" + (" (chosen)" if b == chosen else ""), groups, b) for b in shown]
    lines.append(f"\n{lang}: chosen bar {chosen} (at most {max_added:.2f} answerable added)\n")
    return "\n".join(lines)


def _rate(rows: list[dict], bar: float | None) -> str:
    return f"{sum(refused(r, bar) for r in rows) / len(rows):.2f}" if rows else "–"


def _row(label: str, groups: dict, bar: float | None) -> str:
    answerable = groups["answerable"]
    right = sum(1 for r in answerable if r.get("contains") and not refused(r, bar))
    more = added(answerable, bar) if bar is not None else 0
    cells = [_rate(answerable, bar), str(more), f"{right}/{len(answerable)}"]
    cells += [_rate(groups["out_of_kb"], bar), _rate(groups["near_miss"], bar)]
    return f"| {label} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    raise SystemExit(main())
