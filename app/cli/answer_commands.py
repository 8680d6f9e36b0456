"""`kb search` and `kb ask`."""

import json
import sys
from typing import Annotated

import typer

from app.cli.common import JsonOpt, KBOpt, fail, open_kb, operations
from app.cli.explain_view import show_explained


def search(
    query: Annotated[str, typer.Argument(help="what to look for")],
    kb: KBOpt = None,
    k: Annotated[
        int | None,
        typer.Option("-k", help="number of results (default: KB_SEARCH_K, 5)", show_default=False),
    ] = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="hybrid | dense | keyword (default: KB_SEARCH_MODE, hybrid)", show_default=False
        ),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="the retrieval test: each signal that ranked a hit, and whether the answer "
            "step would refuse and why (no model is called)",
        ),
    ] = False,
    as_json: JsonOpt = False,
):
    """Search a knowledge base (no LLM): the chunks an answer would be built from."""
    from app.operations import OperationError

    ops = operations()
    name = open_kb(ops, kb)
    try:
        if explain:
            return show_explained(ops.search.explain(name, query, k, mode), as_json)
        hits = ops.search.search(name, query, k, mode)
    except OperationError as exc:
        fail(exc.message)
    if as_json:
        typer.echo(json.dumps({"hits": [h.as_dict() for h in hits]}, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("#", "score", "source", "page", "text")
    for n, h in enumerate(hits, 1):
        table.add_row(
            str(n), f"{h.score:.4f}", h.source, str(h.page or ""), h.text[:160].replace("\n", " ")
        )
    Console().print(table if hits else "no results")


def ask(
    question: Annotated[str, typer.Argument(help="your question, in Chinese or English")],
    kb: KBOpt = None,
    provider: Annotated[
        str | None, typer.Option(help="LLM provider (default from KB_LLM_PROVIDER: local)")
    ] = None,
    model: Annotated[str | None, typer.Option(help="model name for the provider")] = None,
    k: Annotated[int | None, typer.Option("-k", help="chunks of context")] = None,
    stream: Annotated[
        bool, typer.Option("--stream", help="print the answer as it is generated")
    ] = False,
    as_json: JsonOpt = False,
):
    """Answer a question from a knowledge base, citing file and page."""
    from answering import Answer, Done, Failed, Reading, Token
    from app.operations import AskOptions, OperationError
    from llm_backends import LLMBackendError

    ops = operations()
    name = open_kb(ops, kb)
    show_stream = stream and not as_json
    try:
        events = ops.answers.stream(
            question, [], AskOptions(name, provider=provider, model=model, k=k)
        )
    except LLMBackendError as exc:
        fail(exc.message, 4)
    except (OperationError, ValueError) as exc:  # too long a question, bad provider settings
        fail(str(exc), 2)
    answer: Answer | None = None
    for event in events:
        match event:
            case Reading(n) if show_stream:
                typer.secho(f"(reading {n} passages…)", fg=typer.colors.BRIGHT_BLACK, err=True)
            case Token(text) if show_stream:
                sys.stdout.write(text)
                sys.stdout.flush()
            case Done(done):
                answer = done
            case Failed(message):
                fail(message, 4)
    if answer is None:
        fail("the answer stream ended without an answer", 4)
    if as_json:
        typer.echo(json.dumps(answer.as_dict(), ensure_ascii=False))
        return
    typer.echo("" if stream else answer.answer)
    typer.echo("")
    for c in answer.citations:
        where = f"{c.source}" + (f", p.{c.page}" if c.page else "")
        typer.secho(
            f"[{c.n}] {where}: {c.text[:100].strip()}…".replace("\n", " "), fg=typer.colors.CYAN
        )
    t = answer.timings
    typer.secho(
        f"model {answer.model} | retrieve {t['retrieve_ms']:.0f} ms, first token"
        f" {t['first_token_ms']:.0f} ms, generate {t['generate_ms']:.0f} ms, total"
        f" {t['total_ms']:.0f} ms",
        fg=typer.colors.BRIGHT_BLACK,
    )
