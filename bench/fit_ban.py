"""Fit the refusal ban (``KB_BAN_REFUSAL_START`` with ``KB_REFUSAL_THRESHOLD``) on the tuning half,
from two runs of bench/answers.py over the same tuning questions: one as shipped (the model's
refusal probability is read and recorded, nothing acted on) and one with the refusal's start banned
for every answer:

    python -m bench.answers --halves tune --kb-size 25 ... --answers PLAIN
    python -m bench.answers --halves tune --kb-size 25 ... --answers BANNED \\
        --set ban_refusal_start=true
    python -m bench.fit_ban --plain PLAIN --banned BANNED

A threshold t then gives, for each question the model was asked: a refusal when its refusal
probability p >= t (the gate), else the banned run's answer (greedy decoding: where the model did
not start the refusal, both runs wrote the same answer). So every t is read off the two runs without
a third. Questions refused before the model (relevance bar, names) are the same in both.

The rule, fixed in this script before any tuning answer was read, per language: the t on the grid
with the largest gain = questions it makes right minus questions it makes wrong (an answerable
question is right when answered with the gold, an out-of-KB or near-miss one when refused); ties go
to the highest t (the least change). The ban is worth shipping for a language only if that gain is
at least 2 questions. Only thresholds refusing at most ``--max-refused`` of the answerable questions
(0.05, issue 19's bound) are eligible: added after the first fit, which had no such bound and chose
0.05, a threshold refusing 0.17 of the answerable tuning questions (docs/benchmarks.md). Only
``*.tune.*.jsonl`` files are read.
"""

import argparse
from pathlib import Path

from bench.fit_gate import load_rows

GRID = [round(0.05 * n, 2) for n in range(1, 21)]  # 1.0: ban unless the model is certain
KINDS = ("answerable", "out_of_kb", "near_miss")
MIN_GAIN = 2


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--plain", required=True, help="answers with the ban off")
    ap.add_argument("--banned", required=True, help="the same questions with the ban on")
    ap.add_argument("--max-refused", type=float, default=0.05, help="answerable refused, at most")
    args = ap.parse_args()
    pairs = paired(load_rows(Path(args.plain)), load_rows(Path(args.banned)))
    if not pairs:
        print("no tuning answers found in both runs")
        return 1
    for lang in ("zh", "en"):
        mine = [p for p in pairs if p[0]["lang"] == lang]
        if mine:
            report(lang, mine, args.max_refused)
    return 0


def paired(plain: list[dict], banned: list[dict]) -> list[tuple[dict, dict]]:
    """(plain, banned) answers to the same question over the same knowledge base."""
    by_key = {(r["kb_label"], r["id"]): r for r in banned}
    return [
        (r, by_key[(r["kb_label"], r["id"])]) for r in plain if (r["kb_label"], r["id"]) in by_key
    ]


def outcome(plain: dict, banned: dict, threshold: float | None) -> dict:
    """The answer a threshold gives: ``None`` is the shipped behaviour (no gate, no ban)."""
    probability = (plain.get("signals") or {}).get("refusal_probability")
    if threshold is None or probability is None:
        return plain  # not asked (refused before the model) or the setting off
    if probability >= threshold:
        return {**plain, "refused": True, "contains": False}
    return banned


def right(kind: str, answer: dict) -> bool:
    if kind == "answerable":
        return not answer["refused"] and bool(answer["contains"])
    return bool(answer["refused"])


def gain(pairs: list[tuple[dict, dict]], threshold: float) -> int:
    kinds = [p[0]["kind"] for p in pairs]
    before = sum(right(k, p[0]) for k, p in zip(kinds, pairs))
    return sum(right(k, outcome(*p, threshold)) for k, p in zip(kinds, pairs)) - before


def refused_answerable(pairs: list[tuple[dict, dict]], threshold: float) -> float:
    answerable = [p for p in pairs if p[0]["kind"] == "answerable"]
    refused = sum(bool(outcome(*p, threshold)["refused"]) for p in answerable)
    return refused / len(answerable) if answerable else 0.0


def report(lang: str, pairs: list[tuple[dict, dict]], max_refused: float) -> None:
    counts = {k: sum(p[0]["kind"] == k for p in pairs) for k in KINDS}
    print(f"\n{lang}: " + ", ".join(f"{n} {k}" for k, n in counts.items()) + " tuning questions")
    print(
        "| threshold | gain | refused answerable | right answerable | refused out-of-KB |"
        " refused near miss |"
    )
    print("|---|---|---|---|---|---|")
    print(_row("off", pairs, None))
    best = None
    for t in GRID:
        g = gain(pairs, t)
        print(_row(f"{t:.2f}", pairs, t))
        if refused_answerable(pairs, t) <= max_refused and (best is None or g >= best[1]):
            best = (t, g)
    if best is None:
        print(f"\n{lang}: no threshold refuses at most {max_refused:.2f} of answerable -> off")
        return
    ship = best[1] >= MIN_GAIN
    print(
        f"\n{lang}: best threshold {best[0]:.2f}, gain {best[1]} -> "
        + ("ban on" if ship else f"off (gain < {MIN_GAIN})")
    )


def _row(label: str, pairs: list[tuple[dict, dict]], threshold: float | None) -> str:
    after = [(p[0]["kind"], outcome(*p, threshold)) for p in pairs]

    def rate(kind: str, test) -> str:
        group = [a for k, a in after if k == kind]
        return f"{sum(bool(test(a)) for a in group) / len(group):.2f}" if group else "–"

    g = "–" if threshold is None else str(gain(pairs, threshold))
    cells = [g, rate("answerable", lambda a: a["refused"])]
    cells.append(rate("answerable", lambda a: a["contains"] and not a["refused"]))
    cells += [rate("out_of_kb", lambda a: a["refused"]), rate("near_miss", lambda a: a["refused"])]
    return f"| {label} | " + " | ".join(cells) + " |"


if __name__ == "__main__":
    raise SystemExit(main())
