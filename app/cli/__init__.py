"""The `kb` command line: one Typer app; every command is a plain function in this package's
modules.

Command modules import nothing heavy at the top (models, Chroma, FastAPI and Gradio load inside the
command that needs them), so `kb --help` starts in about a second.
"""

import sys

import typer

from app.cli.answer_commands import ask, search
from app.cli.archive_commands import export, import_
from app.cli.eval_command import eval_cmd
from app.cli.feedback_commands import feedback_app
from app.cli.kb_commands import create, docs, drop, ingest, kbs, outline, reembed, rm
from app.cli.mcp_command import mcp
from app.cli.passage_commands import passage_app, passages
from app.cli.serve_command import serve, worker
from app.cli.sync_command import sync
from app.settings import prepare_process_env

app = typer.Typer(
    help=(
        "kb-assistant: ask questions over your own PDFs, Markdown and text, with cited answers. "
        "Settings come from KB_* environment variables or a .env file (see README)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
COMMANDS = (
    ingest,
    sync,
    kbs,
    docs,
    outline,
    passages,
    search,
    ask,
    rm,
    create,
    drop,
    reembed,
    serve,
    worker,
    mcp,
)
for command in COMMANDS:
    app.command()(command)
app.command("eval")(eval_cmd)
app.command()(export)
app.command("import")(import_)
app.add_typer(passage_app, name="passage")
app.add_typer(feedback_app, name="feedback")


def main() -> None:
    prepare_process_env()
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


__all__ = ["app", "main"]
