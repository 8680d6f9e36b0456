"""`kb search --explain`: the retrieval test on the terminal."""

import json

import typer

# short column names for the signals (app.operations.SIGNALS), in the order they act
COLUMNS = {
    "dense_score": "cos",
    "dense_rank": "dense#",
    "focused_dense_rank": "focus#",
    "keyword_score": "bm25",
    "keyword_rank": "kw#",
    "fused_score": "rrf",
    "reference_boost": "ref",
    "rank_before_page_rescore": "pre#",
    "page_rescore": "page",
    "rerank_score": "rerank",
}


def show_explained(found: dict, as_json: bool) -> None:
    from app.operations import hit_signals

    hits = [hit_signals(h) for h in found["hits"]]
    if as_json:
        typer.echo(json.dumps({**found, "hits": hits}, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    shown = [name for name in COLUMNS if any(name in h["signals"] for h in hits)]
    table = Table("#", "source", "page", *(COLUMNS[n] for n in shown), "text")
    for n, h in enumerate(hits, 1):
        values = [_number(h["signals"].get(name)) for name in shown]
        text = h["text"][:100].replace("\n", " ")
        table.add_row(str(n), h["source"], str(h["page"] or ""), *values, text)
    console = Console()
    console.print(table if hits else "no results")
    decision = found["decision"]
    verdict = f"refused ({decision['refused_by']})" if decision["refused_by"] else "answered"
    console.print(f"answer step: {verdict}: {decision['reason']}", markup=False)
    routed = found.get("structure_question")
    if routed:
        console.print(
            f"structure question ({routed['kind']}): answered from the outline when the "
            "documents have one",
            markup=False,
        )


def _number(value) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else f"{value:.3f}"
