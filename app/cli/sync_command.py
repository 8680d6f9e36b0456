"""`kb sync DIR --kb NAME [--watch] [--dry-run]`: a knowledge base follows a folder
(app/operations/sync.py): new and changed files are indexed by the ordinary durable job, deleted
files' documents removed, documents from elsewhere left alone."""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import JsonOpt, KBOpt, fail, open_kb, operations

DEBOUNCE_MS = 2000  # an editor's save or a copy of many files arrives as one round
RESCAN_MS = 30_000


def sync(
    folder: Annotated[Path, typer.Argument(help="the folder to follow (read recursively)")],
    kb: KBOpt = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="keep following changes until Ctrl-C")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="only say what would be added, changed or removed")
    ] = False,
    as_json: JsonOpt = False,
):
    """Make a knowledge base match a folder: new and changed files (by content) are indexed, the
    documents of deleted files removed. Documents added another way (uploads, other folders) are
    never touched. With --watch, changes are followed as they happen (debounced), each round
    through the same durable ingestion job as an upload."""
    if not folder.is_dir():
        fail(f"not a folder: {folder}")
    ops = operations()
    name = kb or ops.knowledge.default_kb
    if not dry_run or ops.knowledge.exists(name):  # a dry run creates nothing
        name = open_kb(ops, name, create=not dry_run)
    try:
        _round(ops, name, folder, dry_run, as_json)
        if watch and not dry_run:
            _watch(ops, name, folder, as_json)
    finally:
        ops.knowledge.shutdown()


def _round(
    ops, name: str, folder: Path, dry_run: bool, as_json: bool, quiet_when_in_sync: bool = False
) -> None:
    from app.cli.job_follow import follow_job
    from app.operations import OperationError, user_message

    try:
        plan = ops.folders.plan(name, folder)
        if dry_run or plan.empty:
            if not (plan.empty and quiet_when_in_sync):
                _say_plan(name, plan, dry_run, as_json)
            return
        result = ops.folders.apply(
            name, plan, lambda job_id: follow_job(ops, job_id, stderr=as_json, reraise=True)
        )
    except OperationError as exc:
        fail(user_message(exc))
    if as_json:
        failed = [{"source": s, "reason": r} for s, r in result.failed]
        report = {"kb": name, **plan.as_dict(), "removed_documents": result.removed}
        typer.echo(json.dumps(report | {"failed": failed}, ensure_ascii=False))
        return
    typer.echo(_summary(name, plan) + f"; {result.removed} documents removed")
    for source, reason in result.failed:
        typer.secho(f"  failed {source}: {reason}", fg=typer.colors.RED, err=True)


def _say_plan(name: str, plan, dry_run: bool, as_json: bool) -> None:
    if as_json:
        report = {"kb": name, "dry_run": dry_run, **plan.as_dict()}
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(("would sync: " if dry_run else "in sync: ") + _summary(name, plan))
    for label, names in (
        ("add", [s for _, s, _ in plan.add]),
        ("change", [s for _, s, _ in plan.change]),
        ("remove", [s for s, _ in plan.remove]),
    ):
        for source in names:
            typer.echo(f"  {label} {source}")


def _summary(name: str, plan) -> str:
    refused = f", {len(plan.refused)} refused (unsupported type)" if plan.refused else ""
    return (
        f"{plan.folder} -> {name}: {len(plan.add)} new, {len(plan.change)} changed, "
        f"{len(plan.remove)} deleted, {plan.unchanged} unchanged{refused}"
    )


def _watch(ops, name: str, folder: Path, as_json: bool) -> None:
    import signal

    import watchfiles

    # a process started with SIGINT ignored (under pytest-xdist, nohup) would never see Ctrl-C
    signal.signal(signal.SIGINT, signal.default_int_handler)
    typer.echo(f"watching {folder} (Ctrl-C to stop)", err=True)
    try:
        # also a rescan every RESCAN_MS without events: a change made between two rounds, before
        # the watcher was listening again, is caught then
        for _changes in watchfiles.watch(
            folder,
            debounce=DEBOUNCE_MS,
            raise_interrupt=False,
            rust_timeout=RESCAN_MS,
            yield_on_timeout=True,
        ):
            _round(ops, name, folder, False, as_json, quiet_when_in_sync=True)
    except KeyboardInterrupt:
        pass
    typer.echo("stopped watching", err=True)
