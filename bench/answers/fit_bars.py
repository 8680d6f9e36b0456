"""Fit the refusal bars on many tuning questions: the relevance bar and the name check run before
the model, so they can be fitted on every tuning-half question instead of the 20 per set
bench.answers.qa asks the model. The one fitting entry point for what ships (answering.refusal).

    python -m bench.answers.fit_bars [--sets cmrc,squad,xquad-zh,xquad-en,xquad-en-zh,xquad-zh-en]
        [--kb-size 25,200]
        [--out-of-kb 30] [--near-miss-share 0.25] [--max-refused 0.02]

Per tuning half and knowledge-base size (built as bench.answers.qa builds them: one answerable
question per passage in the knowledge base, a quarter of them near misses, out-of-KB questions from
articles kept out), each question is searched as the answer path searches it and what the decision
reads before the model is recorded: the best dense score and the names missing from the passages.
Then, pooled per language (and for the cross-language sets, English questions over Chinese
passages and the reverse, pooled as "cross"), the share of answerable questions refused (a wrong
refusal) and of out-of-KB and near-miss ones refused (right ones) for each bar.

The rule, fixed before any figure was read: the name check stays on only if it refuses at most
``--max-refused`` of the answerable tuning questions by itself (0.02: headroom under the 0.05 the
issue allows on unseen data). Then, per language, the highest relevance bar that refuses at most
``--max-refused`` of the answerable questions with it. Only tuning halves are read;
bench.answers.qa reports the choice on the report half.
"""

import argparse
import json
from pathlib import Path

from bench.answers.qa import SETS, _list, build, operations, split_set

REPO = Path(__file__).resolve().parents[2]
# the bar each set's questions are held to: per language, and one for a question in the other
# language than its passages (min_cross_lingual_score)
LANGUAGE = {
    "cmrc": "zh",
    "xquad-zh": "zh",
    "squad": "en",
    "xquad-en": "en",
    "xquad-en-zh": "cross",
    "xquad-zh-en": "cross",
}
BARS = [round(0.70 + 0.005 * n, 3) for n in range(41)]
KINDS = ("answerable", "out_of_kb", "near_miss")


def main() -> int:
    from app.settings import prepare_process_env

    prepare_process_env()
    args = parse_args()
    qa_dir = Path(args.qa_dir)
    if not qa_dir.exists():
        print(f"QA sets not found at {qa_dir} (the fit needs ../shared)")
        return 1
    ops = operations(args)
    rows = []
    for set_name in _list(args.sets):
        half = split_set(qa_dir, set_name)[args.half]
        fillers = split_set(qa_dir, SETS[set_name][2])[args.half]
        for size in [int(s) for s in _list(args.kb_size)]:
            rows += signals_of(ops, set_name, size, half, fillers, args)
    Path(args.signals).parent.mkdir(parents=True, exist_ok=True)
    Path(args.signals).write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    for lang in ("zh", "en", "cross"):
        group = [r for r in rows if r["lang"] == lang]
        if group:
            print_language(lang, group, args.max_refused, choose=args.half == "tune")
    print(f"signals of every question: {args.signals}")
    return 0


def parse_args():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--qa-dir", default=str(REPO.parent / "shared/qa"))
    ap.add_argument("--sets", default="cmrc,squad,xquad-zh,xquad-en,xquad-en-zh,xquad-zh-en")
    ap.add_argument(
        "--half",
        choices=("tune", "report"),
        default="tune",
        help="tune: choose the bars; report: the same table on unseen questions, nothing chosen"
        " (read it at the bars the tuning half chose)",
    )
    ap.add_argument("--kb-size", default="25,200")
    ap.add_argument("--out-of-kb", type=int, default=30)
    ap.add_argument("--max-refused", type=float, default=0.02)
    ap.add_argument("--near-miss-share", type=float, default=0.25)
    ap.add_argument("--data", default=str(REPO / "bench/.cache/answers"))
    ap.add_argument("--signals", default=str(REPO / "bench/results/gate_signals.jsonl"))
    args = ap.parse_args()
    # what bench.answers.qa's helpers read: every passage asks its question, the gate open (the
    # signals are read, not acted on), the local model never loaded
    args.model = "qwen2.5-coder-1.5b"
    args.set = ["check_names=true"]
    return args


def signals_of(ops, set_name: str, size: int, half, fillers, args) -> list[dict]:
    from app.operations.evaluation import build_kb_from_contexts

    # a half may hold fewer passages than the size: the share is of those the knowledge base gets
    passages = len({i.context for i in half if i.answers}) - args.out_of_kb
    near = int(min(size, passages) * args.near_miss_share)
    args.answerable, args.near_miss = min(size, passages) - near, near
    kbq = build(half, size, args, fillers)
    kb_name = f"bars-{set_name}-{args.half}-{size}-nm"
    build_kb_from_contexts(ops, kb_name, kbq.passages)
    out = []
    for kind in KINDS:
        for item in getattr(kbq, kind):
            signals = ops.answers.gate_signals(kb_name, item.question)
            out.append(
                {
                    "set": set_name,
                    "size": size,
                    "kind": kind,
                    "lang": LANGUAGE[set_name],
                    "question": item.question,
                    **signals,
                }
            )
    print(f"[{set_name} {args.half} {size}] {len(out)} questions searched", flush=True)
    return out


def refused(row: dict, bar: float, names: bool) -> bool:
    score = row["best_dense_score"]
    return score is None or score < bar or (names and bool(row["missing_names"]))


def rate(rows: list[dict], bar: float, names: bool) -> float:
    return sum(refused(r, bar, names) for r in rows) / len(rows) if rows else 0.0


def print_language(lang: str, rows: list[dict], max_refused: float, choose: bool = True) -> None:
    groups = {kind: [r for r in rows if r["kind"] == kind] for kind in KINDS}
    counts = ", ".join(f"{len(g)} {kind}" for kind, g in groups.items())
    print(f"\n{lang} {'tuning' if choose else 'report'} questions: {counts}")
    names = rate(groups["answerable"], 0.0, True) <= max_refused
    print(f"name check alone refuses {rate(groups['answerable'], 0.0, True):.3f} of answerable")
    print("| relevance bar | answerable | out-of-KB | near miss |  (refused)")
    print("|---|---|---|---|")
    for bar in BARS:
        cells = [rate(g, bar, names) for g in groups.values()]
        print(f"| {bar:.3f} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    allowed = [b for b in BARS if rate(groups["answerable"], b, names) <= max_refused]
    if allowed and choose:
        bar = max(allowed)
        cells = [rate(g, bar, names) for g in groups.values()]
        print(
            f"name check {'on' if names else 'off'}; chosen ({lang}): relevance bar {bar}"
            f" -> refused answerable {cells[0]:.3f}, out-of-KB {cells[1]:.3f},"
            f" near miss {cells[2]:.3f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
