"""Structure questions end to end: do answers about a document's outline, a chapter, where a topic
is treated, or the whole document name the right titles and cite pages inside the section?

Ingests three documents of ../shared/corpora through the product (the 196-page pumpkin book and a
real-world manual, both with a PDF outline; a two-column paper without one, whose headings are
found in its text), asks ``bench/answers/structure_questions.jsonl`` through ``AnswerService``
(the default local model) and scores each answer from the documents alone: the expected titles
come from the PDF's own outline (``get_toc``) or, for the paper, from titles written in the
question file and located on their pages by their text. Also prints the seconds the outline and
the section digests added to ingesting each document.

    python -m bench.answers.structure [--split report] [--cache bench/.cache/structure]
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

from app.settings import prepare_process_env

REPO = Path(__file__).resolve().parents[2]
CORPORA = REPO.parent / "shared" / "corpora"
KB = "structure-bench"


def expectations(row: dict) -> tuple[list[str], tuple[int, int], list[str]]:
    """(titles the answer must name, pages its citations must lie in, chapter titles)."""
    import pymupdf

    path = CORPORA / row["doc"]
    with pymupdf.open(str(path)) as pdf:
        toc = [(lv, " ".join(t.split()), p) for lv, t, p in pdf.get_toc()]
        if not toc:  # titles from the question file, each found on the first page whose text has it
            texts = [" ".join(pdf[i].get_text().split()) for i in range(pdf.page_count)]
            toc = [
                (1, t, next((i + 1 for i, x in enumerate(texts) if t in x), 1))
                for t in row["chapters"]
            ]
        pages = pdf.page_count
    chapters = [t for lv, t, _ in toc if lv == 1 and not re.match(r"(前言|目录|附\d)", t)]
    if row["kind"] in ("outline", "summary"):
        return chapters, (1, pages), chapters
    at = next(i for i, e in enumerate(toc) if e[1] == row["target"])
    level, _, start = toc[at]
    after = [p for lv, _, p in toc[at + 1 :] if lv <= level]
    end = after[0] if after else pages
    below = []
    for lv, t, _ in toc[at + 1 :]:
        if lv <= level:
            break
        if lv == level + 1:
            below.append(t)
    if row["kind"] == "locate":
        return [row["target"]], (start, end), chapters
    return below or [row["target"]], (start, end), chapters


def score(row: dict, answer) -> dict:
    wanted, (low, high), _ = expectations(row)
    named = [t for t in wanted if _norm(t) in _norm(answer.answer)]
    pages = [c.page for c in answer.citations if c.page is not None]
    inside = bool(pages) and all(low <= p <= high for p in pages)
    if row["kind"] in ("outline", "summary"):
        titles_ok = len(named) >= 0.8 * len(wanted)
    elif row["kind"] == "section":
        titles_ok = len(named) >= min(3, len(wanted))
    else:
        titles_ok = bool(named)
    if row["kind"] == "locate":  # the chapter is cited; other sections may be named as "see also"
        inside = any(low <= p <= high for p in pages)
    return {
        "named": f"{len(named)}/{len(wanted)}",
        "pages_ok": inside,
        "ok": titles_ok and inside,
        "routed": answer.signals.get("route") == "structure",
    }


def _norm(text: str) -> str:
    return "".join(text.split()).lower()


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--split", default="all", choices=["tune", "report", "all"])
    ap.add_argument("--kind", default=None, help="only questions of this kind")
    ap.add_argument("--cache", default=str(REPO / "bench/.cache/structure"))
    ap.add_argument("--out", default=None, help="also write each answer as JSONL here")
    args = ap.parse_args()
    prepare_process_env()
    if not CORPORA.is_dir():
        print(f"needs {CORPORA}")
        return 1
    rows = [
        json.loads(line)
        for line in (REPO / "bench/answers/structure_questions.jsonl").open(encoding="utf-8")
        if line.strip()
    ]
    rows = [r for r in rows if args.split in ("all", r["split"])]
    rows = [r for r in rows if args.kind in (None, r["kind"])]
    ops = _operations(Path(args.cache))
    _ingest(ops, sorted({r["doc"] for r in rows}))
    from app.operations import AskOptions

    results = []
    for n, row in enumerate(rows, 1):
        t0 = time.perf_counter()
        answer = ops.answers.ask(row["question"], [], AskOptions(KB))
        result = {**row, **score(row, answer), "seconds": round(time.perf_counter() - t0, 1)}
        result["first_token_s"] = round(answer.timings.get("first_token_ms", 0) / 1000, 2)
        result["answer"] = answer.answer
        results.append(result)
        print(
            f"[{n}/{len(rows)}] {row['question']}: {result['named']} pages "
            f"{result['pages_ok']} {result['seconds']} s",
            file=sys.stderr,
            flush=True,
        )
    if args.out:
        Path(args.out).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), encoding="utf-8"
        )
    print(
        "| split | kind | questions | routed | titles+pages ok | first token s (mean) "
        "| answer s (mean) |"
    )
    print("|---|---|---|---|---|---|---|")
    for split in ("tune", "report"):
        for kind in ("outline", "section", "locate", "summary", "all"):
            part = [r for r in results if r["split"] == split and kind in ("all", r["kind"])]
            if not part:
                continue
            ok = sum(r["ok"] for r in part)
            print(
                f"| {split} | {kind} | {len(part)} | {sum(r['routed'] for r in part)} | "
                f"{ok}/{len(part)} ({ok / len(part):.0%}) | "
                f"{sum(r['first_token_s'] for r in part) / len(part):.2f} | "
                f"{sum(r['seconds'] for r in part) / len(part):.1f} |"
            )
    return 0


def _operations(cache: Path):
    from app.operations import Operations
    from app.settings import Settings

    cache.mkdir(parents=True, exist_ok=True)
    return Operations.from_settings(
        Settings(
            data_dir=cache / "data", _env_file=None, llm_temperature=0.0, seed_dir=cache / "seed"
        )
    )


def _ingest(ops, docs: list[str]) -> None:
    """Ingest what is not there yet; print each document's outline size and what the outline and
    the digests cost (parsing it again for the outline alone; writing the sections)."""
    from ingest import ChineseTextSplitter, LoadLimits, parse_and_split
    from ingest.outline import document_outline
    from retrieval.chunk_ids import chunk_id

    stats = ops.knowledge.ingest(KB, [(CORPORA / d, Path(d).name) for d in docs])
    for outcome in stats.outcomes:
        print(
            f"{outcome.source}: {outcome.status} {outcome.chunks} chunks, {outcome.seconds} s",
            file=sys.stderr,
        )
    kb = ops.knowledge.open(KB)
    for d in docs:
        parsed = parse_and_split(CORPORA / d, Path(d).name, LoadLimits(), ChineseTextSplitter())
        t0 = time.perf_counter()
        outline = document_outline(CORPORA / d, parsed.chunks, parsed.pages)
        outline_s = time.perf_counter() - t0
        record = next(r for r in kb.documents() if r.source == Path(d).name)
        ids = [chunk_id(record.doc_id, i) for i in range(record.chunks)]
        chunks = kb.get_chunks(ids, with_embeddings=True)
        texts = [chunks[i]["text"] for i in ids]
        vectors = [chunks[i]["embedding"] for i in ids]
        t0 = time.perf_counter()
        kb.sections.put(record.doc_id, [e.as_dict() for e in outline], texts, vectors)
        digest_s = time.perf_counter() - t0
        print(
            f"{Path(d).name}: {len(outline)} outline entries; outline {outline_s:.2f} s, "
            f"digests + writing sections {digest_s:.2f} s",
            file=sys.stderr,
        )


if __name__ == "__main__":
    raise SystemExit(main())
