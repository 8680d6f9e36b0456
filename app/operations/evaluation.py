"""Evaluation glue, shared by ``kb eval``, ``bench/`` and ``eval/eval.ipynb``.

The ``eval`` library takes plain callables; this module makes them from :class:`Operations` (search
over a knowledge base, the answer chain, a judge), builds a knowledge base from a QA set's contexts
through the normal ingestion path, and runs and writes an evaluation. Nothing here prints except
:class:`TextProgress` (for logs and notebooks).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.operations import Operations

DEFAULT_KS = (1, 3, 5, 10)
CONTEXTS_DIR = "eval-contexts"


def ks_up_to(k: int) -> tuple[int, ...]:
    """The hit@k cut-offs reported for a search depth of ``k``: 1, 3, 5, 10 up to k, and k."""
    if k < 1:
        raise ValueError(f"-k must be at least 1, got {k}")
    return tuple(sorted({x for x in DEFAULT_KS if x <= k} | {k}))


def load_items(qa_file: str | Path, limit: int | None = None, half: str | None = None):
    """The QA set, first ``limit`` questions only when given; with ``half`` (``tune`` or ``report``)
    only the questions whose passage falls in that half (eval.splits). ``ValueError`` with a
    one-line reason."""
    from eval import load_qa_set
    from eval.splits import HALVES, split_by_passage

    path = Path(qa_file)
    if not path.is_file():
        raise ValueError(f"no such QA file: {path}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be at least 1, got {limit}")
    if half is not None and half not in HALVES:
        raise ValueError(f"--half must be one of {', '.join(HALVES)}, got {half!r}")
    items = load_qa_set(path)
    if half is not None:
        items = split_by_passage(items)[half]
    return items[:limit] if limit else items


def parse_model_spec(spec: str) -> tuple[str, str | None]:
    """``PROVIDER:MODEL`` (the model may contain ``:``) or ``PROVIDER`` -> (provider, model or
    None)."""
    from llm_backends import PROVIDERS

    provider, _, model = spec.strip().partition(":")
    if not provider.strip():
        raise ValueError(f"--judge must be PROVIDER:MODEL (e.g. openai:gpt-4o-mini), got {spec!r}")
    if provider.strip() not in PROVIDERS:
        raise ValueError(
            f"unknown LLM provider {provider.strip()!r}; expected one of: {', '.join(PROVIDERS)}"
        )
    return provider.strip(), (model.strip() or None)


# ------------------------------------------------------------------ building a KB from contexts


def contexts_dir(ops: Operations, kb_name: str) -> Path:
    from app.operations.uploads import safe_filename

    return Path(ops.settings.data_dir) / CONTEXTS_DIR / safe_filename(kb_name)


def write_contexts(items, directory: Path) -> list[tuple[Path, str]]:
    """Write one Markdown file per distinct context (``eval.contexts_as_documents``); sets each
    item's ``source`` to its context's file. Unchanged files are left alone (so a rerun finds them
    already indexed). Returns ``(path, source name)`` pairs to ingest."""
    from eval import contexts_as_documents

    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for name, text in contexts_as_documents(items):
        path, data = directory / name, text.encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        files.append((path, name))
    return files


def build_kb_from_contexts(ops: Operations, kb_name: str, items, progress=None):
    """Create ``kb_name`` if missing and ingest the items' contexts into it (already indexed files
    come back as duplicates). Returns ``ingest.IngestStats``."""
    files = write_contexts(items, contexts_dir(ops, kb_name))
    if not files:
        raise ValueError("the QA set has no contexts to build a knowledge base from")
    return ops.knowledge.ingest(kb_name, files, progress)


# ------------------------------------------------------------------ running


def evaluate(
    ops: Operations,
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
    write the report there. ``warmup`` first loads the embedding and chat models, untimed, so
    loading does not count as the first question's latency. Returns ``(report, paths, judge)``:
    ``paths`` is empty without ``out_dir``; ``judge`` is the ``eval.ChatJudge`` or None."""
    from app.operations.answers import AskOptions
    from eval import run_eval, write_report

    if judge and retrieval_only:
        raise ValueError("--judge needs answers: leave out --retrieval-only")
    ops.knowledge.open(kb_name)  # KBNotFound before any model loads
    mode = mode or ops.settings.search_mode
    ops.search.options(mode=mode)  # an unknown mode fails here, not on the first question

    def search(question: str, kk: int) -> list[dict]:
        return [h.as_dict() for h in ops.search.search(kb_name, question, kk, mode)]

    answer = None
    if not retrieval_only:
        chain = ops.answers.chain(AskOptions(kb_name, provider=provider, model=model))
        answer = lambda question: chain.invoke(question).as_dict()  # noqa: E731
    judge_fn = make_judge(ops, judge) if judge else None
    cache_dir = Path(out_dir) / "judge-cache" if (judge_fn and out_dir) else None
    extra = dict(config or {})
    if warmup and items:
        t0 = time.perf_counter()
        search(items[0].question, 1)
        if answer is not None:
            ops.answers.warm_up(provider, model)
        extra["warmup_s"] = round(time.perf_counter() - t0, 2)
    if answer is not None:
        extra.setdefault("answer_k", ops.settings.search_k)
        extra.setdefault("min_dense_score", ops.settings.min_dense_score)
    report = run_eval(
        items,
        search,
        answer=answer,
        judge=judge_fn,
        ks=ks_up_to(k),
        progress=progress,
        cache_dir=str(cache_dir) if cache_dir else None,
        judge_model=judge_fn.name if judge_fn else "",
        config=run_config(ops, kb_name, mode=mode, k=k, **extra),
    )
    models = sorted({str(r["model"]) for r in report.per_question if r.get("model")})
    if models:
        report.config["model"] = ", ".join(models)
    if judge_fn is not None and judge_fn.errors:
        report.config["judge_errors"] = judge_fn.errors
    paths = write_report(report, out_dir) if out_dir is not None else {}
    return report, paths, judge_fn


def make_judge(ops: Operations, spec: str):
    from eval import ChatJudge
    from llm_backends import describe

    provider, model = parse_model_spec(spec)
    chat_model, config = ops.services.chat_model(provider, model, temperature=0.0)
    info = describe(config)
    return ChatJudge(chat_model, f"{info['provider']}:{info['model']}")


def run_config(ops: Operations, kb_name: str, **extra: Any) -> dict[str, Any]:
    """What the report records about the setup (no secrets)."""
    s = ops.settings
    config: dict[str, Any] = {
        "kb": kb_name,
        "chunk_size": s.chunk_size,
        "chunk_overlap": s.chunk_overlap,
        "page_chunk_size": s.page_chunk_size,
        "page_chunk_overlap": s.page_chunk_overlap,
        "embedding": s.embedding + (f":{s.embedding_model}" if s.embedding_model else ""),
        "fetch_k": s.fetch_k,
        "reranker": s.reranker,
        # every retrieval tuning value the searches ran with, and what the keyword index holds
        "retrieval": ops.search.options(mode=extra.get("mode")).as_dict(),
        "keyword_tokenizer": ops.services.store.keyword.tokenizer.signature,
    }
    config.update({key: value for key, value in extra.items() if value is not None})
    return config


def compare_retrieval(
    targets: dict[str, tuple[Operations, str]],
    items: Sequence,
    *,
    modes: Sequence[str] = ("dense", "keyword", "hybrid"),
    k: int = 10,
    out_dir: str | Path | None = None,
    progress_for: Callable[[str], Callable[[int, int], None] | None] | None = None,
    config: dict[str, Any] | None = None,
):
    """Retrieval-only runs of every mode over every target (label -> (operations, kb name)). Returns
    ``(reports, compare_markdown)``; each report goes to ``out_dir/<label>-<mode>/`` and the table
    to ``out_dir/compare.md`` when ``out_dir`` is given."""
    from eval import compare_table

    reports = {}
    for label, (ops, kb_name) in targets.items():
        for mode in modes:
            name = f"{label} {mode}".strip()
            sub_out = Path(out_dir) / name.replace(" ", "-") if out_dir is not None else None
            report, _, _ = evaluate(
                ops,
                kb_name,
                items,
                mode=mode,
                k=k,
                retrieval_only=True,
                out_dir=sub_out,
                progress=progress_for(name) if progress_for else None,
                config=config,
            )
            reports[name] = report
    table = compare_table(reports)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "compare.md").write_text(
            "# Retrieval comparison\n\n" + table, encoding="utf-8"
        )
    return reports, table


def default_out_dir(kb_name: str, root: str | Path = "eval/out") -> Path:
    from app.operations.uploads import safe_filename

    return Path(root) / f"{safe_filename(kb_name)}-{time.strftime('%Y%m%d-%H%M%S')}"


class TextProgress:
    """Progress as a few plain lines (about every 10 %), for logs and notebooks: usable as the
    question progress of ``run_eval`` (``progress(done, total)``) and as ``ingest`` progress."""

    def __init__(self, label: str, stream=None, every: float = 0.1):
        self.label, self.stream, self.every = label, stream or sys.stdout, every
        self.started = time.perf_counter()
        self.counts: dict[str, int] = {}
        self._files_done, self._total = 0, 0

    def _line(self, done: int, total: int, extra: str = "") -> None:
        step = max(1, int(total * self.every))
        if done == total or done % step == 0:
            elapsed = time.perf_counter() - self.started
            print(
                f"{self.label}: {done}/{total}{extra} ({elapsed:.0f} s)",
                file=self.stream,
                flush=True,
            )

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
        self._line(self._files_done, self._total or self._files_done, f" [{counts}]")
