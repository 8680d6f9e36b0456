"""Ingest progress on the terminal: a bar over files and one over chunks (`kb eval
--build-from-contexts`)."""

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ingest import FileOutcome, SilentProgress

_LINE_PER_FILE_UP_TO = 50  # logs and pipes: one line per file for small runs, one per 10% beyond


class RichIngestProgress(SilentProgress):
    def __init__(self, progress: Progress, total_files: int):
        self._p, self._total = progress, total_files
        self._files = progress.add_task("files", total=total_files)
        self._chunks = progress.add_task("chunks", total=0, visible=False)
        self._done = 0
        self._counts: dict[str, int] = {}
        self._plain = not progress.console.is_terminal  # no live bar: print lines instead

    def file_started(self, source, index, total):
        self._current = index
        self._p.update(self._files, description=f"files  {source[:40]}")
        if self._plain and total <= _LINE_PER_FILE_UP_TO:
            self._p.console.print(f"[{index + 1}/{total}] {source}", highlight=False)

    def pages_read(self, source, index, done, total, ocr):
        if index != getattr(self, "_current", None):
            return  # read ahead while the file before is embedded: shown when its turn comes
        what = "OCR page" if ocr else "page"
        self._p.update(self._files, description=f"files  {source[:30]} ({what} {done}/{total})")
        if self._plain and ocr and (done == total or done % max(1, total // 4) == 0):
            self._p.console.print(f"    OCR page {done}/{total}", highlight=False)

    def chunks_planned(self, source, count):
        self._p.reset(self._chunks, total=count, visible=True, description=f"chunks {source[:40]}")
        if self._plain and self._total <= _LINE_PER_FILE_UP_TO:
            self._p.console.print(f"    embedding {count} chunks", highlight=False)

    def chunks_done(self, count):
        self._p.advance(self._chunks, count)

    def file_done(self, outcome: FileOutcome):
        self._p.advance(self._files)
        self._done += 1
        self._counts[outcome.status] = self._counts.get(outcome.status, 0) + 1
        if outcome.status == "failed":
            self._p.console.print(f"[yellow]failed[/] {outcome.source}: {outcome.error}")
        elif self._plain and self._total <= _LINE_PER_FILE_UP_TO:
            self._p.console.print(
                f"    {outcome.status} ({outcome.seconds:.1f} s)", highlight=False
            )
        elif self._plain and (
            self._done % max(1, self._total // 10) == 0 or self._done == self._total
        ):
            counts = ", ".join(f"{v} {k}" for k, v in sorted(self._counts.items()))
            self._p.console.print(f"files: {self._done}/{self._total} ({counts})", highlight=False)


def progress_bar(console: Console, transient: bool = False) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )


@contextlib.contextmanager
def count_bar(description: str, quiet: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A bar for work counted in items: yields ``advance(done, total)``. On a pipe or log, one line
    per tenth of the work instead; ``quiet``: nothing on stdout (``--json``), lines on stderr."""
    console = Console(stderr=quiet)
    with progress_bar(console) as progress:
        task = progress.add_task(description, total=None)
        step = {"next": 0}

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)
            if not console.is_terminal and (done >= step["next"] or done == total):
                console.print(f"{description}: {done}/{total}", highlight=False)
                step["next"] = done + max(1, total // 10)

        yield advance
