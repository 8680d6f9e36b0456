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
        found = ops.sources.passages(name, record.doc_id, offset, limit, query)
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
            m for m, on in (("disabled", not item["enabled"]), ("edited", item["edited"])) if on
        ]
        where = f"p.{item['page']}" if item["page"] is not None else ""
        head = " · ".join(x for x in (f"#{item['index']}", where, item["headings"], *marks) if x)
        typer.echo(f"\n[{head}]  {item['chunk_id']}\n{item['text']}")
