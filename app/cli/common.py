"""What every `kb` command shares: its options, building the operations, failing with one clear
line."""

import logging
import sys
from typing import Annotated, NoReturn

import typer

KBOpt = Annotated[
    str | None,
    typer.Option(
        "--kb", help="knowledge-base name (default: KB_DEFAULT_KB, 'guide')", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]


def operations():
    """The operations over settings from the environment and .env
    (``app.operations.Operations``)."""
    from app.operations import DataDirTooNew, Operations

    # First use writes the packaged model out (~1 GB): show its progress lines on stderr.
    llm_log = logging.getLogger("kb.llm")
    if not llm_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        llm_log.addHandler(handler)
        llm_log.setLevel(logging.INFO)
        llm_log.propagate = False
    try:
        return Operations.from_settings()
    except DataDirTooNew as exc:
        fail(str(exc), 3)


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def open_kb(ops, name: str | None, create: bool = False) -> str:
    """The knowledge base's name (the default one when ``name`` is None), after checking it can be
    opened."""
    from app.operations import OperationError, user_message
    from retrieval import EmbeddingMismatch, KBError

    name = name or ops.knowledge.default_kb
    try:
        ops.knowledge.open(name, create=create)
    except EmbeddingMismatch as exc:  # the store is fine; this configuration cannot search it
        fail(user_message(exc), 3)
    except (KBError, OperationError) as exc:
        fail(str(exc))
    except Exception as exc:  # an unreachable Chroma server, a broken data dir
        fail(f"cannot open the knowledge-base store: {exc}", 3)
    return name
