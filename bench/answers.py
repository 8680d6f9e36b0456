"""Answer benchmark: the whole pipeline (knowledge base from a QA set's contexts -> retrieve -> answer)
with each local model side by side, on the QA sets in ../shared/qa.

Per set, answerable questions are taken one per context, in file order, and their contexts are the
knowledge base. Out-of-knowledge-base questions come from titles none of whose contexts are in the
knowledge base: the right answer is the refusal. The cross-lingual sets ask XQuAD's Chinese
questions over its English contexts, and back; a gold answer in either language counts.

Printed per set and model: contains-gold, EM and F1 on answerable questions, refusal rate on
answerable and on out-of-KB questions, citation hit (a cited chunk holds the answer), first-token and
total latency p50/p95. Scoring is eval.run_eval's (the code `kb eval` runs); each set is also
written as a JSONL file, so `kb eval FILE --kb NAME --build-from-contexts` reports the same numbers.

    python bench/answers.py [--limit 200] [--out-of-kb 50] [--sets cmrc,squad,xquad-zh-en,xquad-en-zh]
                            [--models qwen2.5-coder-1.5b,gemma-3-270m] [--data bench/.cache/answers]
"""

import argparse
import json
import sys
import time
from pathlib import Path

# `python bench/X.py` puts bench/ first on sys.path, where these files would shadow the packages they measure.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from app.settings import prepare_process_env  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# name -> (question file, context file or None = the same)
SETS = {
    "cmrc": ("cmrc2018_dev_part1.jsonl", None),
    "squad": ("squad1.1_dev_part1.jsonl", None),
    "xquad-zh-en": ("xquad_zh.jsonl", "xquad_en.jsonl"),
    "xquad-en-zh": ("xquad_en.jsonl", "xquad_zh.jsonl"),
}
COLUMNS = ("contains", "em", "f1", "refused_answerable", "refused_out_of_kb", "citation_hit",
           "first_token_p50", "first_token_p95", "total_p50", "total_p95")


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--qa-dir", default=str(REPO.parent / "shared/qa"))
    ap.add_argument("--limit", type=int, default=200, help="answerable questions per set")
    ap.add_argument("--out-of-kb", type=int, default=50, help="out-of-knowledge-base questions per set")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--models", default="qwen2.5-coder-1.5b,gemma-3-270m", help="local model ids, in order")
    ap.add_argument("--data", default=str(REPO / "bench/.cache/answers"), help="knowledge bases (reused)")
    ap.add_argument("--out", default=str(REPO / "bench/results/answers.json"))
    args = ap.parse_args()
    qa_dir = Path(args.qa_dir)
    if not qa_dir.exists():
        print(f"QA sets not found at {qa_dir} (the benchmark needs ../shared)")
        return 1
    results: dict[str, dict[str, dict]] = {}
    for set_name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        items = build_items(qa_dir, set_name, args.limit, args.out_of_kb)
        jsonl = Path(args.data) / f"{set_name}.jsonl"
        write_jsonl(items, jsonl)
        results[set_name] = {}
        for model in [m.strip() for m in args.models.split(",") if m.strip()]:
            results[set_name][model] = run_one(set_name, items, model, Path(args.data))
            print_table(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"\nwritten: {args.out}; per-set question files under {args.data}")
    return 0


def build_items(qa_dir: Path, set_name: str, limit: int, out_of_kb: int):
    """(answerable items with their contexts, then out-of-KB items without context)."""
    from eval import load_qa_set

    question_file, context_file = SETS[set_name]
    questions = load_qa_set(qa_dir / question_file)
    twins = {i.id: i for i in load_qa_set(qa_dir / context_file)} if context_file else {}
    answerable, seen_contexts, kb_titles = [], set(), set()
    for item in questions:
        if len(answerable) >= limit:
            break
        twin = twins.get(item.id, item)
        if not item.answers or not twin.context or twin.context in seen_contexts:
            continue
        seen_contexts.add(twin.context)
        kb_titles.add(twin.title)
        answers = list(dict.fromkeys([*item.answers, *(twin.answers if twin is not item else [])]))
        answerable.append(_item(item, answers=answers, context=twin.context, title=twin.title))
    outside, used = [], set()
    for item in questions:
        if len(outside) >= out_of_kb:
            break
        twin = twins.get(item.id, item)
        if twin.title in kb_titles or twin.context in used:
            continue
        used.add(twin.context)  # one question per context: varied topics
        outside.append(_item(item, answers=[], context=None, title=twin.title))
    return answerable + outside


def _item(item, **changes):
    from dataclasses import replace

    return replace(item, **changes)


def write_jsonl(items, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for i in items:
            row = {"id": i.id, "question": i.question, "answers": list(i.answers), "title": i.title}
            if i.context:
                row["context"] = i.context
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_one(set_name: str, items, model: str, data: Path) -> dict:
    from app.operations import Operations
    from app.operations.evaluation import build_kb_from_contexts, evaluate
    from app.settings import Settings

    ops = Operations.from_settings(Settings(data_dir=data, local_model=model, llm_provider="local",
                                            llm_temperature=0.0))
    kb_name = f"bench-{set_name}"
    t0 = time.perf_counter()
    stats = build_kb_from_contexts(ops, kb_name, items)
    print(f"[{set_name}] knowledge base {kb_name}: {len(stats.outcomes)} contexts, {stats.chunks} new chunks "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)
    done = [0]

    def progress(n: int, total: int) -> None:
        if n == total or n - done[0] >= 10:
            done[0] = n
            print(f"[{set_name} / {model}] {n}/{total} questions", flush=True)

    report, _, _ = evaluate(ops, kb_name, items, provider="local", model=model, k=ops.settings.search_k,
                            progress=progress)
    details = data / f"{set_name}.{model}.answers.jsonl"  # every prediction, for reading the misses
    with open(details, "w", encoding="utf-8") as out:
        for row in report.per_question:
            keep = ("id", "question", "answers", "prediction", "refused", "f1", "contains", "citation_hit", "rank")
            out.write(json.dumps({k: row.get(k) for k in keep}, ensure_ascii=False) + "\n")
    return row_of(report.summary)


def row_of(summary: dict) -> dict:
    answers, latency = summary["answers"], summary["latency_answerable"]
    return {
        "n_answerable": summary["n_answerable"], "n_out_of_kb": summary["n_unanswerable"],
        "contains": answers["contains_answerable"], "em": answers["em_answerable"],
        "f1": answers["f1_answerable"], "refused_answerable": answers["refused_answerable"],
        "refused_out_of_kb": answers.get("refusal_recall"), "citation_hit": answers["citation_hit"],
        "first_token_p50": latency["first_token_ms"]["p50"], "first_token_p95": latency["first_token_ms"]["p95"],
        "total_p50": latency["total_ms"]["p50"], "total_p95": latency["total_ms"]["p95"],
    }


def print_table(results: dict) -> None:
    print("\n| set | model | n | " + " | ".join(COLUMNS) + " |")
    print("|---|---|---|" + "---|" * len(COLUMNS))
    for set_name, by_model in results.items():
        for model, row in by_model.items():
            cells = [_fmt(row.get(c), c) for c in COLUMNS]
            n = f"{row['n_answerable']}+{row['n_out_of_kb']}"
            print(f"| {set_name} | {model} | {n} | " + " | ".join(cells) + " |")
    print(flush=True)


def _fmt(value, column: str) -> str:
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if column.endswith(("p50", "p95")) else f"{value:.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
