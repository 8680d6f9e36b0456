"""`kb passages DOC`: a document's passages in the order they were indexed."""

import json
from typing import Annotated

import typer

from app.cli.common import JsonOpt, KBOpt, fail, open_kb, operations


def passages(
    doc_id: Annotated[str, typer.Argument(help="document id (or a unique prefix of it)")],
    kb: KBOpt = None,
    query: Annotated[
        str, typer.Option("--query", "-q", help="show only passages whose text holds this")
    ] = "",
    offset: Annotated[int, typer.Option(min=0, help="skip this many passages")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="show at most this many")] = 50,
    as_json: JsonOpt = False,
):
    """Show a document's passages in indexed order: page, heading path, text, and whether each is
    enabled or edited."""
    from app.operations import NotFound

    ops = operations()
    name = open_kb(ops, kb)
    try:
        record = ops.knowledge.find_document(name, doc_id)
        found = ops.passages.list(name, record.doc_id, offset, limit, query)
    except NotFound as exc:
        fail(exc.message)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False))
        return
    typer.echo(
        f"{found['source']}: {found['total']} passages" + (f" holding '{query}'" if query else "")
    )
    for item in found["items"]:
        marks = [
            m
            for m, on in (
                ("disabled", not item["enabled"]),
                ("edited", item["edited"]),
                ("added by hand", item["manual"]),
            )
            if on
        ]
        where = f"p.{item['page']}" if item["page"] is not None else ""
        at = f"#{item['index']}" if item["index"] is not None else ""
        head = " · ".join(x for x in (at, where, item["headings"], *marks) if x)
        typer.echo(f"\n[{head}]  {item['chunk_id']}\n{item['text']}")


passage_app = typer.Typer(
    help=(
        "Correct a knowledge base by hand: edit a passage's text, disable or enable it, add one, "
        "remove one added by hand, undo an edit. Find chunk ids with `kb passages DOC`."
    ),
    no_args_is_help=True,
)
ChunkArg = Annotated[str, typer.Argument(help="the passage's chunk id (see `kb passages DOC`)")]


def _show(view: dict, as_json: bool, said: str) -> None:
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False))
        return
    marks = [m for m, on in (("disabled", not view["enabled"]), ("edited", view["edited"])) if on]
    typer.echo(f"{said}: {view['chunk_id']}" + (f" ({', '.join(marks)})" if marks else ""))
    typer.echo(view["text"])


def _run(change, *args):
    from app.operations import OperationError

    ops = operations()
    try:
        return change(ops, *args)
    except OperationError as exc:
        fail(exc.message)


@passage_app.command("edit")
def edit(
    chunk: ChunkArg,
    text: Annotated[str, typer.Option("--text", "-t", help="the new text (- reads stdin)")],
    kb: KBOpt = None,
    as_json: JsonOpt = False,
):
    """Replace a passage's text: it is embedded again and the keyword index updated, both or
    neither. The parsed text is kept for `kb passage undo`."""
    import sys

    new = sys.stdin.read() if text == "-" else text
    view = _run(lambda ops: ops.passages.change(open_kb(ops, kb), chunk, text=new))
    _show(view, as_json, "edited")


@passage_app.command("disable")
def disable(chunk: ChunkArg, kb: KBOpt = None, as_json: JsonOpt = False):
    """Keep a passage but leave it out of search and answers."""
    view = _run(lambda ops: ops.passages.change(open_kb(ops, kb), chunk, enabled=False))
    _show(view, as_json, "disabled")


@passage_app.command("enable")
def enable(chunk: ChunkArg, kb: KBOpt = None, as_json: JsonOpt = False):
    """Bring a disabled passage back into search and answers."""
    view = _run(lambda ops: ops.passages.change(open_kb(ops, kb), chunk, enabled=True))
    _show(view, as_json, "enabled")


@passage_app.command("undo")
def undo(chunk: ChunkArg, kb: KBOpt = None, as_json: JsonOpt = False):
    """Put a passage's parsed text back in place of an edit."""
    view = _run(lambda ops: ops.passages.undo(open_kb(ops, kb), chunk))
    _show(view, as_json, "undone")


@passage_app.command("add")
def add(
    text: Annotated[
        str, typer.Argument(help="the passage's text, e.g. a question-and-answer note")
    ],
    kb: KBOpt = None,
    doc: Annotated[
        str | None,
        typer.Option("--doc", help="the document it joins (default: 'Notes added by hand')"),
    ] = None,
    page: Annotated[int | None, typer.Option(min=1, help="the page it belongs to")] = None,
    as_json: JsonOpt = False,
):
    """Add a passage written by hand; search and answers find it like any other."""

    def change(ops):
        name = open_kb(ops, kb)
        doc_id = ops.knowledge.find_document(name, doc).doc_id if doc else None
        return ops.passages.add(name, text, doc_id, page)

    _show(_run(change), as_json, "added")


@passage_app.command("rm")
def remove(chunk: ChunkArg, kb: KBOpt = None):
    """Remove a passage added by hand (a parsed one can only be disabled)."""
    _run(lambda ops: ops.passages.remove(open_kb(ops, kb), chunk))
    typer.echo(f"removed: {chunk}")
