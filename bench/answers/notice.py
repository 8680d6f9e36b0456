"""The weak-evidence notice (issue 38, item 5): its two bars fitted on the tuning half's answers,
then reported on the report half's, which the fit never saw.

An answer carries the notice "资料中可能没有直接说明 / the documents may not state this directly"
when the model's confidence (1 - its refusal probability) is below ``weak_confidence`` or the best
dense similarity is less than ``weak_margin`` above the relevance bar it was held to
(``answering.refusal.is_weak``). Only answers given are judged (a refusal carries no notice):

* right: an answerable question answered with the gold answer in it (``contains``);
* wrong: an answerable question answered without it, or an out-of-KB or near-miss question
  answered at all (its right answer was the refusal).

The fit picks the pair that maximises (share of wrong answers with the notice) - (share of right
answers with it) on the tuning half, with at most ``--max-right`` of right answers noticed.

Reads the answer files of ``bench.answers.qa`` (``--answers`` dir, ``<set>.<half>.<size>.jsonl``):

python -m bench.answers.qa --halves tune --answers DIR ...; python -m bench.answers.qa --halves
report --answers DIR ...; then python -m bench.answers.notice DIR
"""

import argparse
import itertools
import json
from pathlib import Path

CONFIDENCES = (None, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)
MARGINS = (None, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08)


def load(folder: Path, half: str) -> list[dict]:
    """The answers given (not refused) of ``half``, each marked right or wrong."""
    rows = []
    for path in sorted(folder.glob(f"*.{half}.*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("refused"):
                continue
            row["set"] = path.name.split(".")[0]
            row["wrong"] = row["kind"] != "answerable" or not row.get("contains")
            rows.append(row)
    return rows


def noticed(row: dict, confidence: float | None, margin: float | None) -> bool:
    signals = row.get("signals") or {}
    probability = signals.get("refusal_probability")
    if confidence is not None and probability is not None and 1 - probability < confidence:
        return True
    best, bar = signals.get("best_dense_score"), signals.get("relevance_bar")
    return margin is not None and best is not None and bar is not None and best < bar + margin


def shares(rows: list[dict], confidence, margin) -> tuple[float, float, int, int]:
    """(share of wrong answers noticed, share of right answers noticed, wrong, right)."""
    wrong = [r for r in rows if r["wrong"]]
    right = [r for r in rows if not r["wrong"]]
    caught = sum(noticed(r, confidence, margin) for r in wrong)
    bothered = sum(noticed(r, confidence, margin) for r in right)
    return (
        caught / len(wrong) if wrong else 0.0,
        bothered / len(right) if right else 0.0,
        len(wrong),
        len(right),
    )


def fit(rows: list[dict], max_right: float) -> tuple:
    best, chosen = -1.0, (None, None)
    for confidence, margin in itertools.product(CONFIDENCES, MARGINS):
        on_wrong, on_right, _, _ = shares(rows, confidence, margin)
        if on_right <= max_right and on_wrong - on_right > best:
            best, chosen = on_wrong - on_right, (confidence, margin)
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("answers", type=Path, help="bench.answers.qa's --answers folder")
    ap.add_argument(
        "--max-right", type=float, default=0.25, help="most right answers the notice may carry"
    )
    args = ap.parse_args()
    tune, report = load(args.answers, "tune"), load(args.answers, "report")
    if not tune:
        raise SystemExit(f"no tuning-half answers in {args.answers}")
    confidence, margin = fit(tune, args.max_right)
    print(f"fitted on the tuning half: weak_confidence={confidence}, weak_margin={margin}\n")
    print("| half | set | answers given (wrong / right) | wrong with the notice | right with it |")
    print("|---|---|---|---|---|")
    for half, rows in (("tune", tune), ("report", report)):
        sets = sorted({r["set"] for r in rows})
        for name in [*sets, "all"]:
            part = rows if name == "all" else [r for r in rows if r["set"] == name]
            on_wrong, on_right, n_wrong, n_right = shares(part, confidence, margin)
            print(f"| {half} | {name} | {n_wrong} / {n_right} | {on_wrong:.2f} | {on_right:.2f} |")


if __name__ == "__main__":
    main()
