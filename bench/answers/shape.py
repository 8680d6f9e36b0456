"""How answers end, and how long they take, through the product's answer path with the default local
model.

Two question sets, each over its own knowledge base built with the default settings (cached in
--data):

- ``book``: explanatory questions ("怎么推导", "为什么", ...) of
bench/retrieval/long_book_questions.jsonl over the 196-page pumpkin book. Prints total seconds
p50/p95, output tokens, and how many answers hold a sentence or list item said twice
(``answering.repetition.find_repetition`` on the final text) or were cut where the model started
repeating (``Answer.repetition_cut``).
- ``cmrc``: the first questions of CMRC 2018 (one per passage) over a knowledge base of their
passages. Prints first-token and total p50/p95, contains-gold, and fragment answers
(``Answer.fragments``).

Settings come from the environment as usual (``KB_LOCAL_MAX_TOKENS``,
``KB_LLM_PROMPT_LOOKUP_TOKENS``), so one configuration is compared with another by running this
twice.

python -m bench.answers.shape book [--questions 10] [--skip 0] [--data bench/.cache/answer_shape]
[--out FILE]
python -m bench.answers.shape cmrc [--questions 10] [--passages 25]
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

from app.settings import prepare_process_env

REPO = Path(__file__).resolve().parents[2]
BOOK = "corpora/llm-universe-kb/pumkin_book/pumpkin_book.pdf"
EXPLANATORY = re.compile(r"怎么|如何|为什么|推导|解释|含义|思路")
ISSUE_QUESTION = "支持向量机的对偶问题是怎么推导出来的？"  # the one in issue 19, asked first


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("set", choices=("book", "cmrc"))
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument(
        "--skip",
        type=int,
        default=0,
        help="book: start after this many explanatory questions (the first 10 report, the next"
        " ones tune)",
    )
    ap.add_argument("--passages", type=int, default=25, help="cmrc: passages in the knowledge base")
    ap.add_argument("--data", default=str(REPO / "bench/.cache/answer_shape"))
    ap.add_argument("--out", default=None, help="also write each answer as JSONL here")
    ap.add_argument(
        "--shared", default=str(REPO.parent / "shared"), help="the shared corpora and QA sets"
    )
    args = ap.parse_args()
    prepare_process_env()
    from app.operations import Operations
    from app.settings import Settings

    ops = Operations.from_settings(Settings(data_dir=Path(args.data), llm_temperature=0.0))
    shared = Path(args.shared)
    kb, rows = (
        _book(ops, shared, args.questions, args.skip)
        if args.set == "book"
        else _cmrc(ops, shared, args.questions, args.passages)
    )
    ops.answers.warm_up()
    results = [_ask(ops, kb, row, n, len(rows)) for n, row in enumerate(rows, 1)]
    if args.out:
        Path(args.out).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8"
        )
    _print(args.set, ops.settings, results)
    return 0


def _book(ops, shared: Path, limit: int, skip: int = 0):
    lines = (
        (REPO / "bench/retrieval/long_book_questions.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    asked = [json.loads(line)["question"] for line in lines]
    questions = [ISSUE_QUESTION] + [q for q in asked if EXPLANATORY.search(q)]
    _ingest_once(ops, "book", [(shared / BOOK, Path(BOOK).name)])
    return "book", [{"question": q, "answers": []} for q in questions[skip : skip + limit]]


def _cmrc(ops, shared: Path, limit: int, passages: int):
    from app.operations.evaluation import build_kb_from_contexts
    from eval import load_qa_set

    items, seen = [], set()
    for item in load_qa_set(shared / "qa/cmrc2018_dev_part1.jsonl"):
        if item.context and item.context not in seen and item.answers:
            seen.add(item.context)
            items.append(item)
        if len(items) >= passages:
            break
    if "cmrc" not in [k.name for k in ops.knowledge.list_kbs()]:
        build_kb_from_contexts(ops, "cmrc", items)
    return "cmrc", [{"question": i.question, "answers": list(i.answers)} for i in items[:limit]]


def _ingest_once(ops, kb: str, files) -> None:
    if kb not in [k.name for k in ops.knowledge.list_kbs()]:
        t0 = time.perf_counter()
        stats = ops.knowledge.ingest(kb, files)
        if not stats.chunks:
            raise SystemExit(f"nothing ingested into {kb}: {stats.outcomes}")
        print(f"built {kb} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)


def _ask(ops, kb: str, row: dict, n: int, total: int) -> dict:
    from answering.repetition import find_repetition
    from app.operations.answers import AskOptions

    answer = ops.answers.ask(row["question"], [], AskOptions(kb=kb))
    text = answer.answer
    result = {
        "question": row["question"],
        "answer": text,
        "found": answer.found,
        "seconds": answer.timings["total_ms"] / 1000,
        "first_token_s": answer.timings["first_token_ms"] / 1000,
        "output_tokens": answer.usage.get("output_tokens", 0),
        "input_tokens": answer.usage.get("input_tokens", 0),
        "repeats": find_repetition(text, final=True) is not None,
        "repetition_cut": getattr(answer, "repetition_cut", False),
        "fragments": getattr(answer, "fragments", 0),
        "contains": any(a in text for a in row["answers"]) if row["answers"] else None,
    }
    print(
        f"[{n}/{total}] {result['seconds']:.1f} s, {result['output_tokens']} tokens, repeats "
        f"{result['repeats']}, cut {result['repetition_cut']}, fragments {result['fragments']}: "
        f"{text[:60]!r}",
        file=sys.stderr,
        flush=True,
    )
    return result


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def _print(name: str, settings, results: list[dict]) -> None:
    total = [r["seconds"] for r in results]
    first = [r["first_token_s"] for r in results]
    tokens = [r["output_tokens"] for r in results]
    contains = [r["contains"] for r in results if r["contains"] is not None]
    print(
        f"\n## {name}: local_max_tokens={getattr(settings, 'local_max_tokens', None)}, "
        f"prompt_lookup_tokens={getattr(settings, 'llm_prompt_lookup_tokens', None)}\n"
    )
    print(
        "| n | total p50 | total p95 | first token p50 | output tokens mean | with a repeat | cut"
        " at a repeat | fragments | contains |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(results)} | {_pct(total, 0.5):.1f} s | {_pct(total, 0.95):.1f} s |"
        f" {_pct(first, 0.5):.1f} s | {sum(tokens) / max(len(tokens), 1):.0f} |"
        f" {sum(r['repeats'] for r in results)} | {sum(bool(r['repetition_cut']) for r in results)}"
        f" | {sum(r['fragments'] > 0 for r in results)} |"
        f" {(sum(contains) / len(contains)) if contains else float('nan'):.2f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
