"""`kb ingest`, `kb kbs`, `kb docs`, `kb rm`, `kb create`, `kb drop`, `kb reembed`: knowledge
bases and their documents."""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import JsonOpt, KBOpt, fail, open_kb, operations


def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="files or folders (folders are read recursively)")
    ],
    kb: KBOpt = None,
    as_json: JsonOpt = False,
):
    """Add files to a knowledge base (created if missing) and wait for them. Same file twice =
    reported as duplicate; a file that cannot be read fails with its reason while the others are
    indexed. The files go through the same durable ingestion job as an upload (Ctrl-C cancels it;
    indexed files stay)."""
    from app.cli.job_follow import follow_job, job_report, print_job_outcomes
    from ingest import expand_paths, unsupported_reason

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    ops = operations()
    name = open_kb(ops, kb, create=True)
    found = expand_paths(paths)
    # the rule of every door: each file judged alone, a type that cannot be read refused with its
    # reason
    refused = [(p.name, unsupported_reason(p.name)) for p in found if unsupported_reason(p.name)]
    files = [(p.resolve(), p.name) for p in found if not unsupported_reason(p.name)]
    for source, reason in refused:
        typer.echo(f"refused {source}: {reason}", err=True)
    if not files:
        fail(
            "no files to ingest"
            + (" (every one refused)" if refused else f" in {', '.join(map(str, paths))}")
        )
    try:
        job = follow_job(ops, ops.knowledge.submit(name, files).id, stderr=as_json)
    finally:
        ops.knowledge.shutdown()
    if as_json:
        report = job_report(name, job) | {
            "refused": [{"source": s, "reason": r} for s, r in refused]
        }
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        print_job_outcomes(name, job)


def kbs(as_json: JsonOpt = False):
    """List knowledge bases with their document and chunk counts and the embedding model that
    made their vectors."""
    try:
        infos = operations().knowledge.list_kbs()
    except Exception as exc:
        fail(f"cannot open the knowledge-base store: {exc}", 3)
    if as_json:
        typer.echo(json.dumps([i.__dict__ for i in infos], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("knowledge base", "documents", "chunks", "embedding model")
    for info in infos:
        table.add_row(info.name, str(info.documents), str(info.chunks), info.embedding or "")
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
        table.add_row(
            r.doc_id[:12], r.source, str(r.pages or ""), str(r.chunks), r.status, r.error or ""
        )
    Console().print(table)


def rm(
    doc_id: Annotated[str, typer.Argument(help="document id (or a unique prefix of it)")],
    kb: KBOpt = None,
    as_json: JsonOpt = False,
):
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
        typer.echo(
            json.dumps({"deleted": record.doc_id, "source": record.source}, ensure_ascii=False)
        )
    else:
        typer.echo(f"deleted {record.source} ({record.doc_id[:12]})")


def create(
    name: Annotated[str, typer.Argument(help="knowledge-base name (any printable text, up to 64)")],
):
    """Create an empty knowledge base."""
    from retrieval import KBError

    try:
        operations().knowledge.create(name)
    except KBError as exc:
        fail(str(exc))
    typer.echo(f"created {name}")


def drop(
    name: Annotated[str, typer.Argument(help="knowledge-base name")],
    yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
):
    """Delete a knowledge base and everything in it."""
    from retrieval import KBError

    if not yes and not typer.confirm(f"delete knowledge base '{name}' and all its documents?"):
        raise typer.Exit(1)
    try:
        operations().knowledge.drop(name)
    except KBError as exc:
        fail(str(exc))
    typer.echo(f"deleted {name}")


def reembed(
    name: Annotated[str, typer.Argument(help="knowledge-base name")],
    as_json: JsonOpt = False,
):
    """Embed every passage of a knowledge base again with the configured embedding model
    (KB_EMBEDDING, KB_EMBEDDING_MODEL), after that model changed. Searches go on using the old
    vectors until the new ones are all written; then they are swapped in at once. Interrupted, it
    resumes where it stopped when run again."""
    from app.cli.progress import count_bar
    from app.operations import user_message
    from retrieval import KBError

    ops = operations()
    try:
        with count_bar("embedding passages", quiet=as_json) as advance:
            result = ops.knowledge.reembed(name, on_progress=advance)
    except KBError as exc:
        fail(user_message(exc))
    except Exception as exc:  # an unreachable Chroma server, a broken data dir
        fail(f"cannot open the knowledge-base store: {exc}", 3)
    if as_json:
        typer.echo(json.dumps(result.__dict__, ensure_ascii=False))
    elif not result.changed:
        typer.echo(
            f"{name} is already embedded with the configured model ({result.passages} passages)"
        )
    else:
        resumed = result.passages - result.embedded
        note = f", {resumed} done by an earlier run" if resumed else ""
        typer.echo(f"re-embedded {name}: {result.passages} passages{note}")


def outline(
    doc_id: Annotated[str, typer.Argument(help="document id (or a unique prefix of it)")],
    kb: KBOpt = None,
    as_json: JsonOpt = False,
):
    """Show a document's outline: its chapters and sections with their pages."""
    from app.operations import NotFound

    ops = operations()
    name = open_kb(ops, kb)
    try:
        record = ops.knowledge.find_document(name, doc_id)
        found = ops.sources.outline(name, record.doc_id)
    except NotFound as exc:
        fail(exc.message)
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False))
        return
    if not found["entries"]:
        typer.echo(f"{record.source}: no outline (no headings were recognised)")
    for entry in found["entries"]:
        start, end = entry["page_start"], entry["page_end"]
        pages = "" if start is None else f"  p. {start}" + (f"-{end}" if end != start else "")
        typer.echo(f"{'  ' * (entry['level'] - 1)}{entry['title']}{pages}")
