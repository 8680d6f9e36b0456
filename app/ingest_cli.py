"""`kb ingest`: progress over files and chunks, then a per-file table and counts."""

import json
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest import FileOutcome, expand_paths, ingest_files


class RichIngestProgress:
    def __init__(self, progress: Progress, total_files: int):
        self._p = progress
        self._files = progress.add_task("files", total=total_files)
        self._chunks = progress.add_task("chunks", total=0, visible=False)

    def file_started(self, source, index, total):
        self._p.update(self._files, description=f"files  {source[:40]}")
        if not self._p.console.is_terminal:  # logs and pipes get one line per step instead of a live bar
            self._p.console.print(f"[{index + 1}/{total}] {source}")

    def chunks_planned(self, source, count):
        self._p.reset(self._chunks, total=count, visible=True, description=f"chunks {source[:40]}")
        if not self._p.console.is_terminal:
            self._p.console.print(f"    embedding {count} chunks")

    def chunks_done(self, count):
        self._p.advance(self._chunks, count)

    def file_done(self, outcome: FileOutcome):
        self._p.advance(self._files)
        if not self._p.console.is_terminal and outcome.status != "failed":
            self._p.console.print(f"    {outcome.status} ({outcome.seconds:.1f} s)")
        if outcome.status == "failed":
            self._p.console.print(f"[yellow]failed[/] {outcome.source}: {outcome.error}")


def run_ingest(services, kb, paths: list[Path], as_json: bool) -> None:
    files = [(p, p.name) for p in expand_paths(paths)]
    console = Console(stderr=as_json)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=as_json) as bar:
        stats = ingest_files(kb, files, services.parser, RichIngestProgress(bar, len(files)))
    counts = Counter(o.status for o in stats.outcomes)
    if as_json:
        print(json.dumps({"kb": kb.name, "counts": dict(counts), "files": [o.as_dict() for o in stats.outcomes],
                          "seconds": round(stats.wall_s, 2)}, ensure_ascii=False))
        return
    table = Table("file", "status", "pages", "chunks", "detail", title=f"knowledge base '{kb.name}'")
    table.columns[0].overflow = "fold"
    style = {"indexed": "green", "duplicate": "cyan", "failed": "red"}
    for o in stats.outcomes:
        table.add_row(o.source, f"[{style[o.status]}]{o.status}[/]", str(o.pages or ""), str(o.chunks or ""),
                      o.error or (o.doc_id or "")[:12])
    console.print(table)
    console.print(f"{counts.get('indexed', 0)} indexed, {counts.get('duplicate', 0)} duplicate, "
                  f"{counts.get('failed', 0)} failed; {stats.chunks} chunks in {stats.wall_s:.1f} s")
