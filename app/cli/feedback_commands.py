"""`kb feedback`: ratings of answers, listed, given, and exported as a QA set for `kb eval`."""

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import JsonOpt, KBOpt, fail, open_kb, operations

feedback_app = typer.Typer(
    help=(
        "Ratings of answers (👍/👎 in the page, POST /feedback, `kb feedback rate`), and the "
        "ratings as a QA set: `kb feedback export` then `kb eval FILE --kb NAME` is this knowledge "
        "base's regression test."
    ),
    no_args_is_help=True,
)


@feedback_app.command("list")
def list_(kb: KBOpt = None, limit: int = 50, as_json: JsonOpt = False):
    """The rated answers, newest first."""
    ops = operations()
    rated = ops.feedback.listed(open_kb(ops, kb), limit)
    if as_json:
        typer.echo(json.dumps(rated, ensure_ascii=False))
        return
    if not rated:
        typer.echo("no rated answers yet")
    for row in rated:
        mark = "👍" if row["rating"] == "up" else "👎"
        typer.echo(f"\n{mark} {row['answer_id']}  {row['question']}\n   answer: {row['answer']}")
        for label, key in (("reason", "reason"), ("right answer", "correct_answer")):
            if row[key]:
                typer.echo(f"   {label}: {row[key]}")


@feedback_app.command("rate")
def rate(
    answer_id: Annotated[str, typer.Argument(help="the answer_id of `kb ask --json` or /ask")],
    rating: Annotated[str, typer.Argument(help="up or down")],
    kb: KBOpt = None,
    reason: Annotated[str | None, typer.Option(help="what was wrong (or right)")] = None,
    correct: Annotated[str | None, typer.Option("--correct", help="the right answer")] = None,
):
    """Rate an answer."""
    from app.operations import OperationError

    ops = operations()
    try:
        ops.feedback.rate(answer_id, open_kb(ops, kb), rating, reason, correct)
    except OperationError as exc:
        fail(exc.message)
    typer.echo(f"rated {answer_id}: {rating}")


@feedback_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="the QA set to write (.jsonl)")],
    kb: KBOpt = None,
):
    """Write the ratings as a QA set in `kb eval`'s JSONL form: each 👍 answer, or each 👎 answer's
    correction, is the gold answer, its first cited passage the gold source and page. A 👎 without
    a correction has no gold answer and is left out (the count is printed)."""
    from app.operations.feedback import as_qa_items

    ops = operations()
    name = open_kb(ops, kb)
    items, skipped = as_qa_items(ops.feedback.listed(name, 100_000))
    if not items:
        fail(f"no rated answers with a gold answer in '{name}' yet ({skipped} without one)")
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    typer.echo(
        f"wrote {len(items)} questions to {out}"
        + (f" ({skipped} 👎 without a correction left out)" if skipped else "")
        + f"; run: kb eval {out} --kb {name}"
    )
