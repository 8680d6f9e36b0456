"""`kb eval`: retrieval and answer metrics over a QA set (see docs/eval.md)."""

import time
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, open_kb, operations


def _build(ops, kb: str, items, console) -> None:
    from app.cli.progress import RichIngestProgress, progress_bar
    from app.operations.evaluation import build_kb_from_contexts

    with progress_bar(console) as bar:
        stats = build_kb_from_contexts(
            ops, kb, items, RichIngestProgress(bar, len({i.context for i in items if i.context}))
        )
    console.print(f"knowledge base '{kb}': " + stats.summary(), highlight=False, soft_wrap=True)
    ops.services.parser.close()  # the parse worker is not needed any more


def _question_progress(bar, description: str, total: int):
    task = bar.add_task(description, total=total)
    started, step = time.perf_counter(), max(1, total // 10)

    def advance(done: int, _total: int) -> None:
        bar.update(task, completed=done)
        # logs: a line per 10 %
        if not bar.console.is_terminal and (done % step == 0 or done == total):
            bar.console.print(
                f"{description}: {done}/{total} ({time.perf_counter() - started:.0f} s)",
                highlight=False,
            )

    return advance


def eval_cmd(
    qa_file: Annotated[
        Path,
        typer.Argument(
            help="QA set: .jsonl (id, question, answers, context?, title?), "
            "tutorial .json list or .csv (see docs/eval.md)"
        ),
    ],
    kb: Annotated[str, typer.Option("--kb", help="knowledge base to evaluate")],
    build_from_contexts: Annotated[
        bool,
        typer.Option(
            "--build-from-contexts",
            help=(
                "write the set's contexts to <data_dir>/eval-contexts/<kb>/ and ingest them into"
                " the knowledge base "
                "(created if missing; reruns skip indexed files)"
            ),
        ),
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="only the first N questions (and their contexts)")
    ] = None,
    half: Annotated[
        str | None,
        typer.Option(
            "--half",
            help="only the questions whose passage is in this half: tune (choose settings here) or "
            "report (report only); split by a hash of the passage",
        ),
    ] = None,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="no answers: retrieval metrics only")
    ] = False,
    judge: Annotated[
        str | None, typer.Option("--judge", help="score answers with an LLM judge: PROVIDER:MODEL")
    ] = None,
    provider: Annotated[
        str | None, typer.Option(help="LLM provider for answers (default: KB_LLM_PROVIDER)")
    ] = None,
    model: Annotated[str | None, typer.Option(help="model name for the answer provider")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default eval/out/<kb>-<time>)")
    ] = None,
    mode: Annotated[str, typer.Option(help="retrieval mode: hybrid | dense | keyword")] = "hybrid",
    k: Annotated[int, typer.Option("-k", help="search depth: hit@1,3,5,10 up to k, and k")] = 10,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare", help="retrieval-only runs of dense, keyword and hybrid, side by side"
        ),
    ] = False,
    chunk_sizes: Annotated[
        str | None,
        typer.Option(
            "--chunk-sizes",
            help="with --compare: one knowledge base <kb>-c<size> per size, e.g. 200,400,800",
        ),
    ] = None,
):
    """Evaluate a knowledge base on a QA set: hit@k, MRR, EM/F1, latency; writes report.json,
    report.md and plots."""
    from rich.console import Console

    from app.cli.progress import progress_bar
    from app.operations.evaluation import default_out_dir, evaluate, load_items
    from llm_backends import LLMBackendError

    try:
        sizes = _check(mode, k, provider, judge, retrieval_only, compare, chunk_sizes)
        items = load_items(qa_file, limit, half)
    except ValueError as exc:
        fail(str(exc))
    started, console = time.perf_counter(), Console(stderr=True)
    out_dir = out or default_out_dir(kb)
    config = {"qa_file": str(qa_file), "limit": limit, "half": half}
    ops = operations()
    try:
        if compare:
            _compare(ops, kb, items, sizes, build_from_contexts, k, out_dir, config, console)
            console.print(
                f"compare table: {out_dir / 'compare.md'}; wall time"
                f" {time.perf_counter() - started:.1f} s",
                highlight=False,
                soft_wrap=True,
            )
            return
        open_kb(ops, kb, create=build_from_contexts)
        if build_from_contexts:
            _build(ops, kb, items, console)
        with progress_bar(console) as bar:
            report, paths, judge_obj = evaluate(
                ops,
                kb,
                items,
                mode=mode,
                k=k,
                retrieval_only=retrieval_only,
                provider=provider,
                model=model,
                judge=judge,
                out_dir=out_dir,
                progress=_question_progress(bar, "questions", len(items)),
                config=config,
            )
    except LLMBackendError as exc:
        fail(exc.message, 4)
    except ValueError as exc:  # bad provider settings, a QA set without contexts
        fail(str(exc))
    _print_summary(report, paths, judge_obj, console, started)


def _check(mode, k, provider, judge, retrieval_only, compare, chunk_sizes) -> list[int]:
    """ValueError naming the first unusable option; the chunk sizes to compare otherwise."""
    from app.operations.evaluation import ks_up_to, parse_model_spec
    from llm_backends import PROVIDERS
    from retrieval import SEARCH_MODES

    if mode not in SEARCH_MODES:
        raise ValueError(f"--mode must be one of {', '.join(SEARCH_MODES)}")
    ks_up_to(k)
    if provider and provider not in PROVIDERS:
        raise ValueError(
            f"--provider: unknown LLM provider {provider!r}; expected one of:"
            f" {', '.join(PROVIDERS)}"
        )
    if judge:
        parse_model_spec(judge)
        if retrieval_only:
            raise ValueError("--judge needs answers: leave out --retrieval-only")
        if compare:
            raise ValueError("--compare is retrieval-only: leave out --judge")
    if chunk_sizes is None:
        return []
    if not compare:
        raise ValueError("--chunk-sizes goes with --compare")
    try:
        sizes = sorted({int(s) for s in chunk_sizes.split(",") if s.strip()})
    except ValueError:
        raise ValueError(
            f"--chunk-sizes must be comma-separated integers, got {chunk_sizes!r}"
        ) from None
    if not sizes or sizes[0] < 50:
        raise ValueError("--chunk-sizes must be integers of at least 50, e.g. 200,400,800")
    return sizes


def _compare(ops, kb, items, sizes, build_from_contexts, k, out_dir, config, console) -> None:
    from app.cli.progress import progress_bar
    from app.operations.evaluation import compare_retrieval

    targets = {}
    for size in sizes or [None]:
        sized = ops.with_chunk_size(size) if size else ops
        name = f"{kb}-c{size}" if size else kb
        open_kb(sized, name, create=build_from_contexts)
        if build_from_contexts:
            _build(sized, name, items, console)
        targets[f"c{size}" if size else ""] = (sized, name)
    with progress_bar(console) as bar:
        _, table = compare_retrieval(
            targets,
            items,
            k=k,
            out_dir=out_dir,
            config=config,
            progress_for=lambda name: _question_progress(bar, f"questions {name}", len(items)),
        )
    typer.echo(table)


def _print_summary(report, paths, judge_obj, console, started: float) -> None:
    from eval import summary_markdown

    typer.echo(summary_markdown(report))
    if judge_obj is not None and judge_obj.errors:
        console.print(
            f"[yellow]warning[/] {judge_obj.errors} judge calls failed: {judge_obj.last_error}"
        )
    errors = report.summary.get("n_errors", 0)
    if errors:
        first = next(
            (
                r.get("answer_error") or r.get("search_error")
                for r in report.per_question
                if r.get("answer_error") or r.get("search_error")
            ),
            "",
        )
        console.print(f"[yellow]warning[/] {errors} questions failed (scored as misses): {first}")
    plots = ", ".join(p.name for name, p in paths.items() if name not in ("json", "markdown"))
    console.print(
        f"report: {paths['markdown']} (+ report.json, {plots}); "
        f"wall time {time.perf_counter() - started:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
