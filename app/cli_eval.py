"""`kb eval`: retrieval and answer metrics over a QA set (see docs/eval.md)."""

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from app.cli import _fail, _open_kb, _services, app

def _progress(console):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
        TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console)


class _Steps:
    """Advances a rich task; on a non-terminal console prints a line about every 10 % instead."""

    def __init__(self, bar, description: str, total: int):
        self.bar, self.description, self.total = bar, description, total
        self.task = bar.add_task(description, total=total)
        self.started = time.perf_counter()
        self.step = max(1, total // 10)

    def set(self, done: int, extra: str = "") -> None:
        self.bar.update(self.task, completed=done,
                        description=self.description + (f" [dim]{extra}[/]" if extra else ""))
        if not self.bar.console.is_terminal and (done % self.step == 0 or done == self.total):
            self.bar.console.print(f"{self.description}: {done}/{self.total}{' ' + extra if extra else ''} "
                                   f"({time.perf_counter() - self.started:.0f} s)", highlight=False, soft_wrap=True)


class _IngestProgress:
    """ingest.Progress over a rich bar: one step per context file, chunks counted alongside."""

    def __init__(self, bar, total: int, label: str):
        self.steps = _Steps(bar, f"contexts {label}".strip(), total)
        self.done, self.chunks, self.counts = 0, 0, {}

    def file_started(self, source, index, total):
        pass

    def chunks_planned(self, source, count):
        pass

    def chunks_done(self, count):
        self.chunks += count

    def file_done(self, outcome):
        self.done += 1
        self.counts[outcome.status] = self.counts.get(outcome.status, 0) + 1
        extra = ", ".join(f"{v} {k}" for k, v in sorted(self.counts.items())) + f"; {self.chunks} chunks"
        self.steps.set(self.done, extra)
        if outcome.status == "failed":
            self.steps.bar.console.print(f"[yellow]failed[/] {outcome.source}: {outcome.error}")


def _build(services, kb: str, items, console, label: str = "") -> None:
    from app.eval_wiring import build_kb_from_contexts, ingest_summary

    with _progress(console) as bar:
        progress = _IngestProgress(bar, len({i.context for i in items if i.context}), label)
        stats = build_kb_from_contexts(services, kb, items, progress)
    console.print(f"knowledge base '{kb}': " + ingest_summary(stats), highlight=False, soft_wrap=True)
    try:
        services.parser.close()  # the parse worker is not needed any more
    except Exception:  # noqa: BLE001
        pass


def _question_progress(bar, description: str, total: int):
    steps = _Steps(bar, description, total)
    return lambda done, _total: steps.set(done)


@app.command("eval")
def eval_cmd(
    qa_file: Annotated[Path, typer.Argument(help="QA set: .jsonl (id, question, answers, context?, title?), "
                                                 "tutorial .json list or .csv (see docs/eval.md)")],
    kb: Annotated[str, typer.Option("--kb", help="knowledge base to evaluate")],
    build_from_contexts: Annotated[bool, typer.Option(
        "--build-from-contexts",
        help="write the set's contexts to <data_dir>/eval-contexts/<kb>/ and ingest them into the knowledge base "
             "(created if missing; reruns skip indexed files)")] = False,
    limit: Annotated[Optional[int], typer.Option(
        "--limit", help="only the first N questions (and their contexts)")] = None,
    retrieval_only: Annotated[bool, typer.Option(
        "--retrieval-only", help="no answers: retrieval metrics only")] = False,
    judge: Annotated[Optional[str], typer.Option(
        "--judge", help="score answers with an LLM judge: PROVIDER:MODEL")] = None,
    provider: Annotated[Optional[str], typer.Option(help="LLM provider for answers (default: KB_LLM_PROVIDER)")] = None,
    model: Annotated[Optional[str], typer.Option(help="model name for the answer provider")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="report folder (default eval/out/<kb>-<time>)")] = None,
    mode: Annotated[str, typer.Option(help="retrieval mode: hybrid | dense | keyword")] = "hybrid",
    k: Annotated[int, typer.Option("-k", help="search depth: hit@1,3,5,10 up to k, and k")] = 10,
    compare: Annotated[bool, typer.Option("--compare", help="retrieval-only runs of dense, keyword and hybrid, "
                                                            "side by side")] = False,
    chunk_sizes: Annotated[Optional[str], typer.Option(
        "--chunk-sizes", help="with --compare: one knowledge base <kb>-c<size> per size, e.g. 200,400,800")] = None,
):
    """Evaluate a knowledge base on a QA set: hit@k, MRR, EM/F1, latency; writes report.json, report.md and plots."""
    from rich.console import Console

    from app.eval_wiring import (MODES, compare_retrieval, default_out_dir, evaluate, ks_up_to, load_items,
                                 parse_model_spec, services_with_chunk_size, summary_markdown)
    from llm_backends import PROVIDERS, LLMBackendError

    if mode not in MODES:
        _fail("--mode must be hybrid, dense or keyword")
    sizes: list[int] = []
    try:
        ks_up_to(k)
        for option, name in (("--provider", provider), ("--judge", judge and parse_model_spec(judge)[0])):
            if name and name not in PROVIDERS:
                raise ValueError(f"{option}: unknown LLM provider {name!r}; expected one of: {', '.join(PROVIDERS)}")
        if judge:
            if retrieval_only:
                raise ValueError("--judge needs answers: leave out --retrieval-only")
            if compare:
                raise ValueError("--compare is retrieval-only: leave out --judge")
        if chunk_sizes is not None:
            if not compare:
                raise ValueError("--chunk-sizes goes with --compare")
            try:
                sizes = sorted({int(s) for s in chunk_sizes.split(",") if s.strip()})
            except ValueError:
                raise ValueError(f"--chunk-sizes must be comma-separated integers, got {chunk_sizes!r}") from None
            if not sizes or sizes[0] < 50:
                raise ValueError("--chunk-sizes must be integers of at least 50, e.g. 200,400,800")
        items = load_items(qa_file, limit)
    except ValueError as exc:
        _fail(str(exc))

    started = time.perf_counter()
    console = Console(stderr=True)
    out_dir = out or default_out_dir(kb)
    services = _services()
    try:
        if compare:
            targets = {}
            for size in sizes or [None]:
                sized = services_with_chunk_size(services, size) if size else services
                name = f"{kb}-c{size}" if size else kb
                if build_from_contexts:
                    _open_kb(sized, name, create=True)
                    _build(sized, name, items, console, f"c{size}" if size else "")
                else:
                    _open_kb(sized, name)
                targets[f"c{size}" if size else ""] = (sized, name)
            with _progress(console) as bar:
                _, table = compare_retrieval(
                    targets, items, k=k, out_dir=out_dir,
                    progress_for=lambda name: _question_progress(bar, f"questions {name}", len(items)),
                    config={"qa_file": str(qa_file), "limit": limit})
            typer.echo(table)
            console.print(f"compare table: {out_dir / 'compare.md'}; wall time {time.perf_counter() - started:.1f} s",
                          highlight=False, soft_wrap=True)
            return

        _open_kb(services, kb, create=build_from_contexts)
        if build_from_contexts:
            _build(services, kb, items, console)
        with _progress(console) as bar:
            report, paths, judge_obj = evaluate(
                services, kb, items, mode=mode, k=k, retrieval_only=retrieval_only, provider=provider, model=model,
                judge=judge, out_dir=out_dir, progress=_question_progress(bar, "questions", len(items)),
                config={"qa_file": str(qa_file), "limit": limit})
    except LLMBackendError as exc:
        _fail(exc.message, 4)
    except ValueError as exc:  # bad provider settings, a QA set without contexts
        _fail(str(exc))

    typer.echo(summary_markdown(report))
    if judge_obj is not None and judge_obj.errors:
        console.print(f"[yellow]warning[/] {judge_obj.errors} judge calls failed: {judge_obj.last_error}")
    errors = report.summary.get("n_errors", 0)
    if errors:
        first = next((r.get("answer_error") or r.get("search_error") for r in report.per_question
                      if r.get("answer_error") or r.get("search_error")), "")
        console.print(f"[yellow]warning[/] {errors} questions failed (scored as misses): {first}")
    plots = ", ".join(p.name for name, p in paths.items() if name not in ("json", "markdown"))
    console.print(f"report: {paths['markdown']} (+ report.json, {plots}); "
                  f"wall time {time.perf_counter() - started:.1f} s", highlight=False, soft_wrap=True)
