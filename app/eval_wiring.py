"""Wiring between the app and the ``eval`` library, shared by ``kb eval`` and ``eval/eval.ipynb``.

``eval`` takes plain callables; this module builds them from :class:`app.services.Services`
(search over a knowledge base, the answer chain, a judge chat model), builds a knowledge base
from a QA set's contexts through the normal ingestion path, and runs / writes an evaluation.
Nothing here prints, except :class:`TextProgress` (for logs and notebooks).
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

MODES = ("hybrid", "dense", "keyword")
DEFAULT_KS = (1, 3, 5, 10)
CONTEXTS_DIR = "eval-contexts"

_UNSAFE = re.compile(r"[^\w\-.]+")


def safe_name(name: str) -> str:
    """A knowledge-base name made fit for a folder name."""
    return _UNSAFE.sub("_", name).strip("._") or "kb"


def ks_up_to(k: int) -> tuple[int, ...]:
    """The hit@k cut-offs reported for a search depth of ``k``: 1, 3, 5, 10 up to k, and k."""
    if k < 1:
        raise ValueError(f"-k must be at least 1, got {k}")
    return tuple(sorted({x for x in DEFAULT_KS if x <= k} | {k}))


def load_items(qa_file: str | Path, limit: int | None = None):
    """The QA set, first ``limit`` questions only when given. ``ValueError`` with a one-line reason."""
    from eval import load_qa_set

    path = Path(qa_file)
    if not path.is_file():
        raise ValueError(f"no such QA file: {path}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    items = load_qa_set(path)
    return items[:limit] if limit else items


# ------------------------------------------------------------------ building a KB from contexts


def contexts_dir(settings, kb_name: str) -> Path:
    return Path(settings.data_dir) / CONTEXTS_DIR / safe_name(kb_name)


def write_contexts(items, directory: Path) -> list[tuple[Path, str]]:
    """Write one Markdown file per distinct context (``eval.contexts_as_documents``); sets each
    item's ``source`` to its context's file. Unchanged files are left alone (so a rerun finds them
    already indexed). Returns ``(path, source name)`` pairs for ``ingest_files``."""
    from eval import contexts_as_documents

    documents = contexts_as_documents(items)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in documents:
        path = directory / name
        data = text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        files.append((path, name))
    return files


def build_kb_from_contexts(services, kb_name: str, items, progress=None):
    """Create ``kb_name`` if missing and ingest the items' contexts into it (already indexed
    files come back as duplicates). Returns ``ingest.IngestStats``."""
    from ingest import ingest_files

    files = write_contexts(items, contexts_dir(services.settings, kb_name))
    if not files:
        raise ValueError("the QA set has no contexts to build a knowledge base from")
    kb = services.store.get(kb_name, create=True)
    return ingest_files(kb, files, services.parser, progress)


def services_with_chunk_size(services, chunk_size: int):
    """Services whose parser splits into ``chunk_size`` chunks, sharing the store and embeddings."""
    from app.services import Services

    if chunk_size < 50:
        raise ValueError(f"chunk size must be at least 50, got {chunk_size}")
    base = services.settings
    overlap = min(base.chunk_overlap, chunk_size // 4)
    sized = Services(base.model_copy(update={"chunk_size": chunk_size, "chunk_overlap": overlap}))
    sized.__dict__["embeddings"] = services.embeddings  # cached properties: load the model once
    sized.__dict__["store"] = services.store
    return sized


# ------------------------------------------------------------------ callables for eval.run_eval


def make_search(services, kb_name: str, mode: str | None = None) -> Callable[[str, int], list[dict]]:
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return lambda question, k: [h.as_dict() for h in services.search(kb_name, question, k, mode)]


def make_answer(services, kb_name: str, provider: str | None = None, model: str | None = None,
                k: int | None = None) -> Callable[[str], dict]:
    from app.answering import build_chain

    chain = build_chain(services, kb_name, provider=provider, model=model, k=k)
    return lambda question: chain.invoke(question).as_dict()


def parse_model_spec(spec: str) -> tuple[str, str | None]:
    """``PROVIDER:MODEL`` (the model may contain ``:``) or ``PROVIDER`` -> (provider, model or None)."""
    provider, _, model = spec.strip().partition(":")
    if not provider.strip():
        raise ValueError(f"--judge must be PROVIDER:MODEL (e.g. openai:gpt-4o-mini), got {spec!r}")
    return provider.strip(), (model.strip() or None)


@dataclass
class Judge:
    """A judge callable over a chat model. A failing call scores nothing (``None``) instead of
    ending the run; ``errors`` counts them and ``last_error`` keeps the latest reason."""

    chat_model: Any
    name: str
    errors: int = 0
    last_error: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, messages: list) -> str:
        try:
            content = self.chat_model.invoke(messages).content
        except Exception as exc:  # noqa: BLE001  one bad judge call must not end a long run
            with self._lock:
                self.errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
            return ""
        return content if isinstance(content, str) else str(content)


def make_judge(services, spec: str) -> Judge:
    from llm_backends import describe

    provider, model = parse_model_spec(spec)
    chat_model, config = services.chat_model(provider, model, temperature=0.0)
    info = describe(config)
    return Judge(chat_model, f"{info['provider']}:{info['model']}")


def warm_up_chat_model(services, provider: str | None = None, model: str | None = None) -> None:
    """Load the local model's weights now (a few generated tokens); remote models need nothing."""
    chat_model, config = services.chat_model(provider, model)
    if config.provider == "local":
        chat_model.invoke("1 + 1 =", stop=[" ", ".", "。", "，", ","])


# ------------------------------------------------------------------ running


def run_config(services, kb_name: str, **extra: Any) -> dict[str, Any]:
    """What the report records about the setup (no secrets)."""
    s = services.settings
    config: dict[str, Any] = {
        "kb": kb_name,
        "chunk_size": s.chunk_size,
        "chunk_overlap": s.chunk_overlap,
        "embedding": s.embedding + (f":{s.embedding_model}" if s.embedding_model else ""),
        "fetch_k": s.fetch_k,
        "reranker": s.reranker,
    }
    config.update({key: value for key, value in extra.items() if value is not None})
    return config


def evaluate(
    services,
    kb_name: str,
    items: Sequence,
    *,
    mode: str | None = None,
    k: int = 10,
    retrieval_only: bool = False,
    provider: str | None = None,
    model: str | None = None,
    judge: str | None = None,
    out_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    config: dict[str, Any] | None = None,
    warmup: bool = True,
):
    """Run ``eval.run_eval`` over ``kb_name`` (which must exist) and, when ``out_dir`` is given,
    write the report there. ``warmup`` first loads the embedding and (local) chat models, untimed,
    so model loading does not count as the first question's latency. Returns
    ``(report, paths, judge)``: ``paths`` is empty without ``out_dir``; ``judge`` is the
    :class:`Judge` or None."""
    from eval import run_eval, write_report

    if judge and retrieval_only:
        raise ValueError("--judge needs answers: leave out --retrieval-only")
    services.store.get(kb_name)  # KBNotFound before any model loads
    mode = mode or services.settings.search_mode
    search = make_search(services, kb_name, mode)
    answer = None if retrieval_only else make_answer(services, kb_name, provider, model)
    judge_fn = make_judge(services, judge) if judge else None
    cache_dir = Path(out_dir) / "judge-cache" if (judge_fn and out_dir) else None
    extra = dict(config or {})
    if warmup and items:  # load the embedding / chat models outside the timed questions
        t0 = time.perf_counter()
        search(items[0].question, 1)
        if answer is not None:
            warm_up_chat_model(services, provider, model)
        extra["warmup_s"] = round(time.perf_counter() - t0, 2)
    if answer is not None:
        extra.setdefault("answer_k", services.settings.search_k)
        extra.setdefault("min_dense_score", services.settings.min_dense_score)
    report = run_eval(
        items, search, answer=answer, judge=judge_fn, ks=ks_up_to(k), progress=progress,
        cache_dir=str(cache_dir) if cache_dir else None, judge_model=judge_fn.name if judge_fn else "",
        config=run_config(services, kb_name, mode=mode, k=k, **extra),
    )
    if answer is not None:
        models = sorted({r.get("model") for r in report.per_question if r.get("model")})
        if models:
            report.config["model"] = ", ".join(models)
    if judge_fn is not None and judge_fn.errors:
        report.config["judge_errors"] = judge_fn.errors
    paths = write_report(report, out_dir) if out_dir is not None else {}
    return report, paths, judge_fn


def compare_retrieval(
    targets: dict[str, tuple[Any, str]],
    items: Sequence,
    *,
    modes: Sequence[str] = ("dense", "keyword", "hybrid"),
    k: int = 10,
    out_dir: str | Path | None = None,
    progress_for: Callable[[str], Callable[[int, int], None] | None] | None = None,
    config: dict[str, Any] | None = None,
):
    """Retrieval-only runs of every mode over every target (label -> (services, kb name)).
    Returns ``(reports, compare_markdown)``; each report goes to ``out_dir/<label>-<mode>/``
    and the table to ``out_dir/compare.md`` when ``out_dir`` is given."""
    from eval import compare_table

    reports = {}
    for label, (services, kb_name) in targets.items():
        for mode in modes:
            name = f"{label} {mode}".strip()
            sub_out = Path(out_dir) / safe_name(name.replace(" ", "-")) if out_dir is not None else None
            report, _, _ = evaluate(services, kb_name, items, mode=mode, k=k, retrieval_only=True, out_dir=sub_out,
                                    progress=progress_for(name) if progress_for else None, config=config)
            reports[name] = report
    table = compare_table(reports)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "compare.md").write_text("# Retrieval comparison\n\n" + table, encoding="utf-8")
    return reports, table


def summary_markdown(report) -> str:
    """The report's result tables (retrieval, answers, judge, latency) and wall time, without the
    settings table and the list of misses."""
    from eval.report import report_markdown

    sections = report_markdown(report).split("\n## ")
    kept = [s for s in sections[1:] if not s.startswith("Retrieval misses")]
    s = report.summary
    head = (f"Questions: {s.get('n_questions', 0)} ({s.get('n_answerable', 0)} answerable, "
            f"{s.get('n_unanswerable', 0)} unanswerable); errors: {s.get('n_errors', 0)}; "
            f"wall time {report.wall_s:.1f} s.")
    r = s.get("retrieval", {})
    if r.get("search_ms_p50") is not None:
        head += f"\nSearch time per question: p50 {r['search_ms_p50']:.0f} ms, p95 {r['search_ms_p95']:.0f} ms."
    return head + "\n\n" + "\n".join("## " + section.rstrip() + "\n" for section in kept)


def default_out_dir(kb_name: str, root: str | Path = "eval/out") -> Path:
    return Path(root) / f"{safe_name(kb_name)}-{time.strftime('%Y%m%d-%H%M%S')}"


class TextProgress:
    """Progress as a few plain lines (about every 10 %), for logs and notebooks.

    Usable as the question progress of ``run_eval`` (``progress(done, total)``) and as the
    ``ingest_files`` progress protocol."""

    def __init__(self, label: str, stream=None, every: float = 0.1):
        self.label = label
        self.stream = stream or sys.stdout
        self.every = every
        self.started = time.perf_counter()
        self.counts: dict[str, int] = {}
        self._files_done = 0

    def _line(self, done: int, total: int, extra: str = "") -> None:
        step = max(1, int(total * self.every))
        if done == total or done % step == 0:
            elapsed = time.perf_counter() - self.started
            print(f"{self.label}: {done}/{total}{extra} ({elapsed:.0f} s)", file=self.stream, flush=True)

    def __call__(self, done: int, total: int) -> None:
        self._line(done, total)

    # ingest.Progress
    def file_started(self, source, index, total):
        self._total = total

    def chunks_planned(self, source, count):
        pass

    def chunks_done(self, count):
        pass

    def file_done(self, outcome):
        self._files_done += 1
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        counts = ", ".join(f"{v} {k}" for k, v in sorted(self.counts.items()))
        self._line(self._files_done, getattr(self, "_total", self._files_done), f" [{counts}]")


def ingest_summary(stats) -> str:
    counts: dict[str, int] = {}
    for outcome in stats.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    line = (f"{counts.get('indexed', 0)} indexed, {counts.get('duplicate', 0)} duplicate, "
            f"{counts.get('failed', 0)} failed; {stats.chunks} new chunks in {stats.wall_s:.1f} s")
    failures = [o for o in stats.outcomes if o.status == "failed"][:3]
    return line + "".join(f"\n  failed {o.source}: {o.error}" for o in failures)
