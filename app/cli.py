"""The `kb` command line."""

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from app.settings import Settings, prepare_process_env

app = typer.Typer(
    help="kb-assistant: ask questions over your own PDFs, Markdown and text, with cited answers. "
    "Settings come from KB_* environment variables or a .env file (see README).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

KBOpt = Annotated[str, typer.Option("--kb", help="knowledge-base name")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]


def _services():
    import logging

    from app.services import Services

    # First use writes the packaged model out (~1 GB): show its progress lines on stderr.
    llm_log = logging.getLogger("kb.llm")
    if not llm_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        llm_log.addHandler(handler)
        llm_log.setLevel(logging.INFO)
        llm_log.propagate = False
    return Services(Settings())


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _open_kb(services, name: str, create: bool = False):
    from retrieval import KBError

    try:
        return services.store.get(name, create=create)
    except KBError as exc:
        _fail(str(exc))
    except Exception as exc:  # an unreachable Chroma server, a broken data dir
        _fail(f"cannot open the knowledge-base store: {exc}", 3)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (folders are read recursively)")],
    kb: KBOpt = "default",
    as_json: JsonOpt = False,
):
    """Add files to a knowledge base (created if missing). Same file twice = reported as duplicate."""
    from app.ingest_cli import run_ingest

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or folder: {', '.join(missing)}")
    services = _services()
    kb_obj = _open_kb(services, kb, create=True)
    run_ingest(services, kb_obj, paths, as_json)


@app.command()
def kbs(as_json: JsonOpt = False):
    """List knowledge bases with their document and chunk counts."""
    services = _services()
    try:
        infos = services.store.list()
    except Exception as exc:
        _fail(f"cannot open the knowledge-base store: {exc}", 3)
    if as_json:
        typer.echo(json.dumps([i.__dict__ for i in infos], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("knowledge base", "documents", "chunks")
    for info in infos:
        table.add_row(info.name, str(info.documents), str(info.chunks))
    Console().print(table if infos else "no knowledge bases yet: kb ingest PATH --kb NAME")


@app.command()
def docs(kb: KBOpt = "default", as_json: JsonOpt = False):
    """List the documents of a knowledge base with their chunk counts and status."""
    services = _services()
    records = _open_kb(services, kb).documents()
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in records], ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("doc_id", "source", "pages", "chunks", "status", "error")
    for r in records:
        table.add_row(r.doc_id[:12], r.source, str(r.pages or ""), str(r.chunks), r.status, r.error or "")
    Console().print(table)


@app.command()
def rm(doc_id: Annotated[str, typer.Argument(help="document id (or a unique prefix of it)")], kb: KBOpt = "default",
       as_json: JsonOpt = False):
    """Delete a document and its chunks from a knowledge base."""
    services = _services()
    kb_obj = _open_kb(services, kb)
    matches = [r for r in kb_obj.documents() if r.doc_id.startswith(doc_id)] if doc_id else []
    if len(matches) != 1:
        _fail(f"no document matches '{doc_id}'" if not matches else f"'{doc_id}' matches {len(matches)} documents")
    kb_obj.delete_document(matches[0].doc_id)
    if as_json:
        typer.echo(json.dumps({"deleted": matches[0].doc_id, "source": matches[0].source}, ensure_ascii=False))
    else:
        typer.echo(f"deleted {matches[0].source} ({matches[0].doc_id[:12]})")


@app.command("create")
def create_kb(name: Annotated[str, typer.Argument(help="knowledge-base name (any printable text, up to 64)")]):
    """Create an empty knowledge base."""
    from retrieval import KBError

    try:
        _services().store.create(name)
    except KBError as exc:
        _fail(str(exc))
    typer.echo(f"created {name}")


@app.command("drop")
def drop_kb(name: Annotated[str, typer.Argument(help="knowledge-base name")],
            yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False):
    """Delete a knowledge base and everything in it."""
    from retrieval import KBError

    if not yes and not typer.confirm(f"delete knowledge base '{name}' and all its documents?"):
        raise typer.Exit(1)
    try:
        _services().store.delete(name)
    except KBError as exc:
        _fail(str(exc))
    typer.echo(f"deleted {name}")


def main() -> None:
    prepare_process_env()
    # These modules register their commands on `app`; they import nothing heavy at module level.
    from app import cli_answer, cli_eval, cli_serve  # noqa: F401
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
