"""`kb search` and `kb ask`."""

import json
import sys
from typing import Annotated, Optional

import typer

from app.cli import JsonOpt, KBOpt, _fail, _open_kb, _services, app


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="what to look for")],
    kb: KBOpt = "default",
    k: Annotated[int, typer.Option("-k", help="number of results")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid | dense | keyword")] = "hybrid",
    as_json: JsonOpt = False,
):
    """Search a knowledge base (no LLM): the chunks an answer would be built from."""
    if mode not in ("hybrid", "dense", "keyword"):
        _fail("--mode must be hybrid, dense or keyword")
    services = _services()
    _open_kb(services, kb)
    hits = services.search(kb, query, k, mode)
    if as_json:
        typer.echo(json.dumps({"hits": [h.as_dict() for h in hits]}, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("#", "score", "source", "page", "text")
    for n, h in enumerate(hits, 1):
        table.add_row(str(n), f"{h.score:.4f}", h.source, str(h.page or ""), h.text[:160].replace("\n", " "))
    Console().print(table if hits else "no results")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="your question, in Chinese or English")],
    kb: KBOpt = "default",
    provider: Annotated[Optional[str], typer.Option(help="LLM provider (default from KB_LLM_PROVIDER: local)")] = None,
    model: Annotated[Optional[str], typer.Option(help="model name for the provider")] = None,
    k: Annotated[Optional[int], typer.Option("-k", help="chunks of context")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="print the answer as it is generated")] = False,
    as_json: JsonOpt = False,
):
    """Answer a question from a knowledge base, citing file and page."""
    from app.answering import build_chain
    from llm_backends import LLMBackendError

    services = _services()
    _open_kb(services, kb)
    try:
        chain = build_chain(services, kb, provider=provider, model=model, k=k)
        answer = None
        for kind, payload in chain.stream(question):
            if kind == "reading" and stream and not as_json:
                typer.secho(f"(reading {payload} sources…)", fg=typer.colors.BRIGHT_BLACK, err=True)
            elif kind == "token" and stream and not as_json:
                sys.stdout.write(payload)
                sys.stdout.flush()
            elif kind == "answer":
                answer = payload
    except LLMBackendError as exc:
        _fail(exc.message, 4)
    except ValueError as exc:  # bad provider settings
        _fail(str(exc), 2)
    if as_json:
        typer.echo(json.dumps(answer.as_dict(), ensure_ascii=False))
        return
    if stream:
        typer.echo("")
    else:
        typer.echo(answer.answer)
    typer.echo("")
    for c in answer.citations:
        where = f"{c.source}" + (f", p.{c.page}" if c.page else "")
        typer.secho(f"[{c.n}] {where}: {c.text[:100].strip()}…".replace("\n", " "), fg=typer.colors.CYAN)
    t = answer.timings
    typer.secho(f"model {answer.model} | retrieve {t['retrieve_ms']:.0f} ms, first token {t['first_token_ms']:.0f} ms, "
                f"generate {t['generate_ms']:.0f} ms, total {t['total_ms']:.0f} ms", fg=typer.colors.BRIGHT_BLACK)
