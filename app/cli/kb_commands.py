"""`kb ingest`, `kb kbs`, `kb docs`, `kb rm`, `kb create`, `kb drop`: knowledge bases and their documents."""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import JsonOpt, KBOpt, fail, open_kb, operations


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (folders are read recursively)")],
    kb: KBOpt = None,
    as_json: JsonOpt = False,
):
    """Add files to a knowledge base (created if missing). Same file twice = reported as duplicate."""
    from app.cli.progress import print_outcomes, rich_ingest_progress
    from ingest import expand_paths

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    ops = operations()
    name = open_kb(ops, kb, create=True)
    files = [(p, p.name) for p in expand_paths(paths)]
    with rich_ingest_progress(len(files), stderr=as_json) as progress:
        stats = ops.knowledge.ingest(name, files, progress)
    if as_json:
        typer.echo(json.dumps({"kb": name, "counts": stats.counts(), "files": [o.as_dict() for o in stats.outcomes],
                               "seconds": round(stats.wall_s, 2)}, ensure_ascii=False))
    else:
        print_outcomes(name, stats)


def kbs(as_json: JsonOpt = False):
    """List knowledge bases with their document and chunk counts."""
    try:
        infos = operations().knowledge.list_kbs()
    except Exception as exc:
        fail(f"cannot open the knowledge-base store: {exc}", 3)
    if as_json:
        typer.echo(json.dumps([i.__dict__ for i in infos], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("knowledge base", "documents", "chunks")
    for info in infos:
        table.add_row(info.name, str(info.documents), str(info.chunks))
    Console().print(table if infos else "no knowledge bases yet: kb ingest PATH --kb NAME")


def docs(kb: KBOpt = None, as_json: JsonOpt = False):
    """List the documents of a knowledge base with their chunk counts and status."""
    ops = operations()
    records = ops.knowledge.documents(open_kb(ops, kb))
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in records], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("doc_id", "source", "pages", "chunks", "status", "error")
    for r in records:
        table.add_row(r.doc_id[:12], r.source, str(r.pages or ""), str(r.chunks), r.status, r.error or "")
    Console().print(table)


def rm(doc_id: Annotated[str, typer.Argument(help="document id (or a unique prefix of it)")], kb: KBOpt = None,
       as_json: JsonOpt = False):
    """Delete a document and its chunks from a knowledge base."""
    from app.operations import NotFound

    ops = operations()
    name = open_kb(ops, kb)
    try:
        record = ops.knowledge.find_document(name, doc_id)
        ops.knowledge.delete_document(name, record.doc_id)
    except NotFound as exc:
        fail(exc.message)
    if as_json:
        typer.echo(json.dumps({"deleted": record.doc_id, "source": record.source}, ensure_ascii=False))
    else:
        typer.echo(f"deleted {record.source} ({record.doc_id[:12]})")


def create(name: Annotated[str, typer.Argument(help="knowledge-base name (any printable text, up to 64)")]):
    """Create an empty knowledge base."""
    from retrieval import KBError

    try:
        operations().knowledge.create(name)
    except KBError as exc:
        fail(str(exc))
    typer.echo(f"created {name}")


def drop(name: Annotated[str, typer.Argument(help="knowledge-base name")],
         yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False):
    """Delete a knowledge base and everything in it."""
    from retrieval import KBError

    if not yes and not typer.confirm(f"delete knowledge base '{name}' and all its documents?"):
        raise typer.Exit(1)
    try:
        operations().knowledge.drop(name)
    except KBError as exc:
        fail(str(exc))
    typer.echo(f"deleted {name}")
