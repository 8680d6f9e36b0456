"""Answer benchmark that cannot be overfitted: the whole pipeline (knowledge base from a QA set's
passages -> retrieve -> refusal decision -> answer) on a tuning half and a report half of every set.

Each set in ../shared/qa is split by a hash of the passage (eval.splits): a passage and all its
questions are in one half only. Choose prompts, thresholds and every other setting on ``--halves
tune``; run ``--halves report`` only to report what was chosen. Per half and per ``--kb-size`` one
knowledge base is built from that half's passages (padded, where the half is smaller, with the same
half of another set in the same language), and three kinds of question are asked over it:

* answerable: one question per passage in the knowledge base;
* out-of-KB: questions about articles kept wholly out of the knowledge base (the refusal is right);
* near miss: the passage is in the knowledge base with the sentence holding the answer removed (same
  subject, same words, no answer: the refusal is right).

Printed per set, half and size: contains-gold, EM and F1 on answerable questions; the refusal rate
of each kind, and for answerable questions who refused (the model itself, or the gate before it:
relevance bar, name check); first-token and total p50 on answerable questions. Every
answer, with what the refusal decision read (``signals``), goes to
``--answers``/<set>.<half>.<size>.jsonl.

python -m bench.answers.qa [--sets cmrc,squad,xquad-zh,xquad-en] [--halves tune,report] [--draw 1]
[--kb-size 25,200] [--answerable 12] [--out-of-kb 6] [--near-miss 6] [--model qwen2.5-coder-1.5b]
[--set min_dense_score=0.85 --set check_names=false ...]
"""

import argparse
import json
import time
from pathlib import Path

from app.settings import prepare_process_env
from bench.results import command, record

REPO = Path(__file__).resolve().parents[2]
# name -> (question file, file whose passage decides the half (aligned by id), set that pads a small
# half)
SETS = {
    "cmrc": ("cmrc2018_dev_part1.jsonl", None, "xquad-zh"),
    "squad": ("squad1.1_dev_part1.jsonl", None, "xquad-en"),
    # a translation: the English passage decides
    "xquad-zh": ("xquad_zh.jsonl", "xquad_en.jsonl", "cmrc"),
    "xquad-en": ("xquad_en.jsonl", None, "squad"),
    # cross-language: one language's questions over the other's passages (XQuAD is parallel), split
    # by the English passage as xquad-zh is, so the halves are the same articles
    "xquad-en-zh": ("xquad_en.jsonl", "xquad_en.jsonl", "cmrc"),
    "xquad-zh-en": ("xquad_zh.jsonl", "xquad_en.jsonl", "squad"),
}
# a cross-language set's passages: its twin's, aligned by id
PASSAGES_FROM = {"xquad-en-zh": "xquad_zh.jsonl", "xquad-zh-en": "xquad_en.jsonl"}
KINDS = ("answerable", "out_of_kb", "near_miss")
COLUMNS = (
    "contains",
    "em",
    "f1",
    "refused_answerable",
    "model_refused_answerable",
    "gate_refused_answerable",
    "refused_out_of_kb",
    "refused_near_miss",
    "first_token_p50",
    "total_p50",
)


def main() -> int:
    prepare_process_env()
    from eval.splits import fresh_draw

    args = parse_args()
    qa_dir = Path(args.qa_dir)
    if not qa_dir.exists():
        print(f"QA sets not found at {qa_dir} (the benchmark needs ../shared)")
        return 1
    ops = operations(args)
    results: dict[str, dict] = {}
    for set_name in _list(args.sets):
        halves = split_set(qa_dir, set_name)
        for half in _list(args.halves):
            fillers = split_set(qa_dir, SETS[set_name][2])[half]
            for size in [int(s) for s in _list(args.kb_size)]:
                drawn = fresh_draw(
                    halves[half], args.draw, size, args.answerable, args.out_of_kb, args.near_miss
                )
                kbq = build(drawn, size, args, fillers)
                label = f"{set_name}.{half}.{size}"
                rows = run_one(ops, label, kbq, Path(args.answers or args.data))
                results[label] = summarize(rows, kinds_of(kbq))
                print_table(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    settings = {k: v for k, v in ops.settings.model_dump(mode="json").items() if "key" not in k}
    Path(args.out).write_text(
        json.dumps({"settings": settings, "results": results}, indent=1, ensure_ascii=False),
        encoding="utf-8",
    )
    print(f"\nwritten: {args.out}; every answer under {args.answers or args.data}")
    record("answers.qa", headline(results), command())
    return 0


def headline(results: dict) -> list[dict]:
    """Contains-gold and the refusal rates per set and size, on the report half where it ran."""
    shown = [k for k in results if k.split(".")[1] == "report"] or list(results)
    keys = ("contains", "refused_answerable", "refused_out_of_kb")
    return [
        {"label": label}
        | {k: None if results[label][k] is None else round(results[label][k], 2) for k in keys}
        for label in shown
    ]


def parse_args():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--qa-dir", default=str(REPO.parent / "shared/qa"))
    ap.add_argument("--sets", default="cmrc,squad")
    ap.add_argument(
        "--halves", default="tune,report", help="tune (choose settings on it), report, or both"
    )
    ap.add_argument(
        "--kb-size", default="25,200", help="passages per knowledge base, comma-separated"
    )
    ap.add_argument(
        "--answerable", type=int, default=12, help="answerable questions per knowledge base"
    )
    ap.add_argument(
        "--out-of-kb", type=int, default=6, help="out-of-KB questions per knowledge base"
    )
    ap.add_argument(
        "--near-miss", type=int, default=6, help="near-miss questions per knowledge base"
    )
    ap.add_argument(
        "--draw",
        type=int,
        default=1,
        help="which questions: 0 = the file's order (read before 2026-12-02, so no longer held"
        " out); 1, 2, ... = passages in a hashed order, without the passages draw 0 asked about"
        " (from 4 on: without those of every earlier draw)",
    )
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="local model id")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a setting (app.settings.Settings field) for this run, e.g. min_dense_score=0.85",
    )
    ap.add_argument(
        "--data", default=str(REPO / "bench/.cache/answers"), help="knowledge bases (reused)"
    )
    ap.add_argument(
        "--answers", default=None, help="where every answer is written (default: --data)"
    )
    ap.add_argument("--out", default=str(REPO / "bench/results/answers.json"))
    return ap.parse_args()


def operations(args):
    from app.operations import Operations
    from app.settings import Settings

    overrides = dict(pair.split("=", 1) for pair in args.set)
    overrides = {k: None if v.lower() in ("none", "") else v for k, v in overrides.items()}
    settings = Settings(
        data_dir=args.data,
        local_model=args.model,
        llm_provider="local",
        llm_temperature=0.0,
        **overrides,
    )
    return Operations.from_settings(settings)


def split_set(qa_dir: Path, set_name: str) -> dict:
    """{"tune": items, "report": items} of one set, each item carrying its passage."""
    from dataclasses import replace

    from eval import load_qa_set
    from eval.splits import split_by_passage

    question_file, key_file, _ = SETS[set_name]
    items = load_qa_set(qa_dir / question_file)
    if key_file is None:
        return split_by_passage(items)
    twins = {i.id: i.context for i in load_qa_set(qa_dir / key_file)}
    halves = split_by_passage(items, key=lambda item: twins.get(item.id))
    if set_name not in PASSAGES_FROM:
        return halves
    # the twin's passage, and its answers beside the question's own: an answer copies names and
    # terms as the sources write them (the prompt's rule), so either language's gold counts
    twin_of = {i.id: i for i in load_qa_set(qa_dir / PASSAGES_FROM[set_name])}
    return {
        half: [
            replace(
                i,
                context=twin_of[i.id].context,
                answers=list(dict.fromkeys([*i.answers, *twin_of[i.id].answers])),
            )
            for i in group
            if i.id in twin_of
        ]
        for half, group in halves.items()
    }


def build(half_items, size: int, args, fillers):
    from dataclasses import replace

    from eval.splits import build_kb_questions

    kbq = build_kb_questions(
        half_items, size, args.answerable, args.out_of_kb, args.near_miss, fillers
    )
    # one question id may be asked as two kinds across knowledge bases: the kind goes into the id
    kbq.out_of_kb = [replace(i, id=f"oo-{i.id}") for i in kbq.out_of_kb]
    kbq.near_miss = [replace(i, id=f"nm-{i.id}") for i in kbq.near_miss]
    return kbq


def kinds_of(kbq) -> dict[str, str]:
    return {i.id: kind for kind in KINDS for i in getattr(kbq, kind)}


def run_one(ops, label: str, kbq, data: Path) -> list[dict]:
    import hashlib

    from app.operations.evaluation import build_kb_from_contexts, evaluate

    # named by its passages: another selection (other question counts) is another knowledge base
    digest = hashlib.sha256("\n".join(p.context for p in kbq.passages).encode("utf-8")).hexdigest()[
        :8
    ]
    kb_name = f"bench-{label.replace('.', '-')}-{digest}"
    t0 = time.perf_counter()
    stats = build_kb_from_contexts(ops, kb_name, kbq.passages)
    print(
        f"[{label}] knowledge base {kb_name}: {len(stats.outcomes)} passages, {stats.chunks} new"
        f" chunks in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    questions = kbq.questions()

    def progress(n: int, total: int) -> None:
        if n % 6 == 0 or n == total:
            print(f"[{label}] {n}/{total} questions", flush=True)

    report, _, _ = evaluate(ops, kb_name, questions, k=ops.settings.search_k, progress=progress)
    kinds = kinds_of(kbq)
    keep = (
        "id",
        "question",
        "answers",
        "prediction",
        "refused",
        "em",
        "f1",
        "contains",
        "refused_by",
        "confidence",
        "signals",
        "timings",
    )
    rows = [
        {**{k: r.get(k) for k in keep}, "kind": kinds[r["id"]], "kb": kb_name}
        for r in report.per_question
    ]
    data.mkdir(parents=True, exist_ok=True)
    with open(data / f"{label}.jsonl", "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return rows


def summarize(rows: list[dict], kinds: dict[str, str]) -> dict:
    from eval.metrics import mean, percentile

    by = {kind: [r for r in rows if kinds[r["id"]] == kind] for kind in KINDS}
    answerable = by["answerable"]

    def rate(group, test):
        return mean(float(bool(test(r))) for r in group) if group else None

    timings = [r.get("timings") or {} for r in answerable]
    return {
        "n": {kind: len(group) for kind, group in by.items()},
        "contains": mean(r["contains"] for r in answerable),
        "em": mean(r["em"] for r in answerable),
        "f1": mean(r["f1"] for r in answerable),
        "refused_answerable": rate(answerable, lambda r: r["refused"]),
        "model_refused_answerable": rate(
            answerable, lambda r: r["refused"] and r.get("refused_by") in (None, "model")
        ),
        "gate_refused_answerable": rate(
            answerable, lambda r: r["refused"] and r.get("refused_by") not in (None, "model")
        ),
        "refused_out_of_kb": rate(by["out_of_kb"], lambda r: r["refused"]),
        "refused_near_miss": rate(by["near_miss"], lambda r: r["refused"]),
        "first_token_p50": percentile(
            [t["first_token_ms"] for t in timings if "first_token_ms" in t], 50
        ),
        "total_p50": percentile([t["total_ms"] for t in timings if "total_ms" in t], 50),
    }


def print_table(results: dict) -> None:
    print("\n| set | half | KB | n (ans/out/near) | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|---|" + "---|" * len(COLUMNS))
    for label, row in results.items():
        set_name, half, size = label.split(".")
        n = "/".join(str(row["n"][k]) for k in KINDS)
        cells = [_fmt(row.get(c), c) for c in COLUMNS]
        print(f"| {set_name} | {half} | {size} | {n} | " + " | ".join(cells) + " |")
    print(flush=True)


def _fmt(value, column: str) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if column.endswith("p50") else f"{value:.2f}"


def _list(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


if __name__ == "__main__":
    raise SystemExit(main())
