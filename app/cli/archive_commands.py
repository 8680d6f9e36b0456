"""`kb export`, `kb import`: a knowledge base as one archive file, to keep or to move."""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import JsonOpt, fail, operations


def export(
    name: Annotated[str, typer.Argument(help="knowledge-base name")],
    file: Annotated[Path, typer.Argument(help="the archive to write (e.g. handbook.kb.zip)")],
    as_json: JsonOpt = False,
):
    """Write a knowledge base to one archive: its originals, passages with their metadata, vectors
    with the embedding model's identity, a format version and checksums. `kb import` restores it
    on any machine, data dir or store."""
    from app.cli.progress import count_bar
    from app.operations import user_message
    from retrieval import KBError

    if file.is_dir():
        fail(f"{file} is a folder: give the archive's file name")
    try:
        with count_bar("documents", quiet=as_json) as advance:
            summary = operations().archives.export(name, file, on_progress=advance)
    except KBError as exc:
        fail(user_message(exc))
    except OSError as exc:
        fail(f"cannot write {file}: {exc.strerror or exc}")
    if as_json:
        typer.echo(json.dumps({**summary.__dict__, "file": str(file)}, ensure_ascii=False))
    else:
        size = summary.bytes / 2**20
        typer.echo(
            f"exported {name}: {summary.documents} documents, {summary.passages} passages "
            f"to {file} ({size:.1f} MB)"
        )


def import_(
    file: Annotated[Path, typer.Argument(help="an archive written by `kb export`")],
    as_name: Annotated[
        str | None, typer.Option("--as", help="import under this name (default: its own)")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="replace a knowledge base of that name")
    ] = False,
    as_json: JsonOpt = False,
):
    """Restore a knowledge base from an archive. The whole archive is checked first; a damaged,
    truncated or foreign file is refused and nothing is written. An archive made with another
    embedding model is embedded again with the configured one."""
    from app.cli.progress import count_bar
    from app.operations import user_message
    from retrieval import KBError

    if not file.is_file():
        fail(f"no such file: {file}")
    try:
        with count_bar("documents", quiet=as_json) as advance:
            summary = operations().archives.import_file(file, as_name, replace, advance)
    except KBError as exc:
        fail(user_message(exc))
    if as_json:
        typer.echo(json.dumps(summary.__dict__, ensure_ascii=False))
    else:
        again = " (embedded again with the configured model)" if summary.embedded_again else ""
        typer.echo(
            f"imported {summary.kb}: {summary.documents} documents, {summary.passages} "
            f"passages{again}"
        )
