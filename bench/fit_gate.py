"""Fit the refusal decision on the tuning half, from answers bench/answers.py recorded with every
gate open (relevance bar 0, name check off, the model's refusal probability read, its refusal start
banned):

    python -m bench.answers --halves tune --set min_dense_score=0 --set min_cross_lingual_score=0 \\
        --set check_names=false --set ban_refusal_start=true
    python -m bench.fit_gate [--data bench/.cache/answers] [--max-refused 0.05]

For each candidate gate (the relevance bar per language, part-of-speech names missing from the
passages, the refusal probability at a threshold, and their combinations) it prints, pooled over the
tuning files, the refusal rate of answerable, out-of-KB and near-miss questions and the answerable
questions still answered right (contains), and picks the one that refuses the most unanswerable
questions while refusing at most ``--max-refused`` of the answerable ones. Only ``*.tune.*.jsonl``
files are read.
"""

import argparse
import itertools
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the refusal probability of answerable questions sits near 0: the low end needs the finer steps
THRESHOLDS = (None, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7)
BARS = (0.0, 0.78, 0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--data", default=str(REPO / "bench/.cache/answers"), help="the knowledge bases"
    )
    ap.add_argument("--answers", default=None, help="the recorded answers (default: --data)")
    ap.add_argument("--max-refused", type=float, default=0.05)
    args = ap.parse_args()
    rows = load_rows(Path(args.answers or args.data))
    if not rows:
        print(f"no *.tune.*.jsonl answers under {args.data}")
        return 1
    add_names(rows, Path(args.data))
    results = [evaluate(rows, gate) for gate in candidates()]
    print(
        "| bar zh | bar en | names | threshold | refused answerable | refused out-of-KB | refused"
        " near miss | contains |"
    )
    print("|---|---|---|---|---|---|---|---|")
    allowed = sorted(
        (r for r in results if r[1]["answerable"] <= args.max_refused),
        key=_preference,
        reverse=True,
    )
    for gate, score in allowed[:15]:
        print(_row(gate, score))
    print(
        f"\nchosen (most unanswerable refused, answerable refused <= {args.max_refused:.2f}; then"
        " fewer answerable refused, more right, fewer signals):"
    )
    print(_row(*allowed[0]))
    print(
        "\nthe chosen gate per tuning file (answers as recorded; a refused answerable question"
        " counts wrong):"
    )
    for label in sorted({r["kb_label"] for r in rows}):
        print(
            f"{label}: "
            + _row(*evaluate([r for r in rows if r["kb_label"] == label], allowed[0][0]))
        )
    print("\neach signal alone:")
    off = {"bar_zh": 0.0, "bar_en": 0.0, "names": False, "threshold": None}
    for gate in [
        off,
        *({**off, "threshold": t} for t in THRESHOLDS[1:]),
        {**off, "names": True},
        *({**off, "bar_zh": b} for b in BARS[1:]),
        *({**off, "bar_en": b} for b in BARS[1:]),
    ]:
        print(_row(*evaluate(rows, gate)))
    return 0


def _preference(result: tuple[dict, dict]) -> tuple:
    gate, score = result
    signals = (
        int(gate["names"])
        + int(gate["threshold"] is not None)
        + int(gate["bar_zh"] > 0)
        + int(gate["bar_en"] > 0)
    )
    return score["unanswerable"], -score["answerable"], score["contains"], -signals


def load_rows(data: Path) -> list[dict]:
    rows = []
    for path in sorted(data.glob("*.tune.*.jsonl")):
        set_name = path.name.split(".")[0]
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows.append(
                {
                    **row,
                    "set": set_name,
                    "kb_label": path.stem,
                    "lang": "en" if set_name in ("squad", "xquad-en") else "zh",
                }
            )
    return rows


def add_names(rows: list[dict], data: Path) -> None:
    """The names each question asks about that the passages the model read miss
    (retrieval.NameCheck), recomputed by the chain's own search: the collection run had the check
    off."""
    from answering import relevant_hits
    from answering.context import context_blocks as _context_blocks
    from app.operations import Operations
    from app.settings import Settings, prepare_process_env
    from llm_backends import model_profile

    prepare_process_env()
    ops = Operations.from_settings(Settings(data_dir=data, llm_provider="local"))
    budget = ops.settings.context_tokens or model_profile(ops.services.llm_config()).context_tokens
    check = ops.services.name_check
    for row in rows:
        hits = ops.answers._passages(row["kb"], row["question"], ops.settings.search_k, None)
        blocks = [b["text"] for b in _context_blocks(relevant_hits(hits, 0.0), budget)]
        row["missing_names"] = check.missing(row["question"], blocks)


def candidates():
    for bar_zh, bar_en, names, threshold in itertools.product(
        BARS, BARS, (False, True), THRESHOLDS
    ):
        yield {"bar_zh": bar_zh, "bar_en": bar_en, "names": names, "threshold": threshold}


def refuses(row: dict, gate: dict) -> bool:
    signals = row.get("signals") or {}
    bar = gate["bar_en"] if row["lang"] == "en" else gate["bar_zh"]
    best = signals.get("best_dense_score")
    if best is not None and best < bar:
        return True
    if gate["names"] and row.get("missing_names"):
        return True
    p = signals.get("refusal_probability")
    if gate["threshold"] is not None and p is not None and p >= gate["threshold"]:
        return True
    return bool(row["refused"])  # the model refused by itself (mid-answer: its start was banned)


def evaluate(rows: list[dict], gate: dict) -> tuple[dict, dict]:
    def rate(kind, test):
        group = [r for r in rows if r["kind"] == kind]
        return sum(1 for r in group if test(r)) / len(group) if group else 0.0

    score = {
        kind: rate(kind, lambda r: refuses(r, gate))
        for kind in ("answerable", "out_of_kb", "near_miss")
    }
    score["contains"] = rate("answerable", lambda r: not refuses(r, gate) and r["contains"])
    score["unanswerable"] = (score["out_of_kb"] + score["near_miss"]) / 2
    return gate, score


def _row(gate: dict, score: dict) -> str:
    threshold = "–" if gate["threshold"] is None else f"{gate['threshold']:g}"
    return (
        f"| {gate['bar_zh']:.2f} | {gate['bar_en']:.2f} | {'on' if gate['names'] else 'off'} |"
        f" {threshold} | {score['answerable']:.2f} | {score['out_of_kb']:.2f} |"
        f" {score['near_miss']:.2f} | {score['contains']:.2f} |"
    )


if __name__ == "__main__":
    raise SystemExit(main())
