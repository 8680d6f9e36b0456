"""Ingest files into a knowledge base: one outcome per file, parsing overlapped with embedding."""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from ingest.errors import IngestError, Interrupted
from ingest.isolation import IsolatedParser, ParsedFile
from ingest.loaders import file_sha256, is_supported, unsupported_reason
from ingest.loaders.common import LoadLimits


@dataclass
class FileOutcome:
    source: str
    status: str  # indexed | duplicate | failed | cancelled
    doc_id: str | None = None
    chunks: int = 0
    pages: int = 0
    error: str | None = None
    seconds: float = 0.0
    # a word on an indexed file (a changed file that replaced its older version and the passage
    # edits that went with it)
    note: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class IngestStats:
    files: int = 0
    pages: int = 0
    chunks: int = 0
    parse_s: float = 0.0
    split_s: float = 0.0
    embed_s: float = 0.0
    write_s: float = 0.0
    wall_s: float = 0.0
    outcomes: list[FileOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Files per status (indexed, duplicate, failed)."""
        return dict(Counter(o.status for o in self.outcomes))

    def summary(self) -> str:
        """One line of counts, then the first few failures with their reasons."""
        counts = self.counts()
        line = (
            f"{counts.get('indexed', 0)} indexed, {counts.get('duplicate', 0)} duplicate, "
            f"{counts.get('failed', 0)} failed; {self.chunks} new chunks in {self.wall_s:.1f} s"
        )
        failures = [o for o in self.outcomes if o.status == "failed"][:3]
        return line + "".join(f"\n  failed {o.source}: {o.error}" for o in failures)


class Progress(Protocol):
    """What ingest_files reports. Optional too: ``pages_read(source, index, done, total, ocr)``
    while a paged file is read (it may come for the next file while this one is embedded: parsing
    runs ahead)."""

    def file_started(self, source: str, index: int, total: int) -> None: ...
    def chunks_planned(self, source: str, count: int) -> None: ...
    def chunks_done(self, count: int) -> None: ...
    def file_done(self, outcome: FileOutcome) -> None: ...


class SilentProgress:
    """Does nothing; subclass it and override only the steps you show."""

    def file_started(self, source, index, total):
        pass

    def pages_read(self, source, index, done, total, ocr):
        pass

    def chunks_planned(self, source, count):
        pass

    def chunks_done(self, count):
        pass

    def file_done(self, outcome):
        pass


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders recursively (hidden files and folders skipped), sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path))
                )
            )
        else:
            out.append(path)
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def ingest_files(
    kb,
    files: list[tuple[Path, str]],
    parser: IsolatedParser,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> IngestStats:
    """``files``: (path on disk, source name shown to users). Never raises for a bad file.

    ``should_stop()`` is asked before each file: once it says yes, the files left are ``cancelled``
    (a file being embedded is finished first, so no document is left half-written)."""
    progress = progress or SilentProgress()
    stats = IngestStats(files=len(files))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse") as pool:
        pending: list[tuple[Path, str, str | None, Future | None, str | None]] = []
        queue = list(enumerate(files))
        # Parse one file ahead: the child process parses the next file while this one embeds.
        for index in range(len(files)):
            while len(pending) < 2 and queue:
                at, (path, source) = queue.pop(0)
                pending.append(
                    _submit(kb, pool, parser, path, source, _page_reporter(progress, source, at))
                )
            path, source, doc_id, future, early = pending.pop(0)
            progress.file_started(source, index, len(files))
            if should_stop is not None and should_stop():
                outcome = FileOutcome(
                    source, "cancelled", doc_id, error="cancelled before it was read"
                )
                if future is not None:
                    future.cancel()
                stats.outcomes.append(outcome)
                progress.file_done(outcome)
                continue
            t0 = time.perf_counter()
            outcome = _finish(kb, source, doc_id, future, early, stats, progress)
            outcome.seconds = round(time.perf_counter() - t0, 3)
            stats.outcomes.append(outcome)
            progress.file_done(outcome)
    stats.wall_s = time.perf_counter() - started
    return stats


def _page_reporter(progress, source: str, index: int):
    """Pages read, passed on to progress objects that show them (``pages_read`` is optional)."""
    report = getattr(progress, "pages_read", None)
    return (
        None if report is None else lambda done, total, ocr: report(source, index, done, total, ocr)
    )


def _submit(kb, pool, parser, path: Path, source: str, on_page=None):
    """Cheap checks first (type, existence, duplicate); parsing only for files that need it."""
    if not path.is_file():
        return path, source, None, None, "file not found"
    if not is_supported(path):
        return path, source, None, None, unsupported_reason(path)
    try:
        doc_id = file_sha256(path)
    except OSError as exc:
        return path, source, None, None, f"cannot read file: {exc.strerror}"
    if kb.is_indexed(doc_id):
        return path, source, doc_id, None, "duplicate"
    return path, source, doc_id, pool.submit(parser.parse, path, source, on_page), None


def _finish(
    kb, source, doc_id, future, early, stats: IngestStats, progress: Progress
) -> FileOutcome:
    if early == "duplicate":
        record = kb.document(doc_id)
        return FileOutcome(
            source,
            "duplicate",
            doc_id,
            record.chunks if record else 0,
            record.pages if record else 0,
        )
    if early is not None:
        if doc_id:
            kb.record_failure(doc_id, source, early)
        return FileOutcome(source, "failed", doc_id, error=early)
    try:
        parsed: ParsedFile = future.result()
    except IngestError as exc:
        kb.record_failure(doc_id, source, exc.reason)
        return FileOutcome(source, "failed", doc_id, error=exc.reason)
    stats.parse_s += parsed.parse_s
    stats.split_s += parsed.split_s
    progress.chunks_planned(source, len(parsed.chunks))
    embed_before = kb.embedding_seconds()
    t0 = time.perf_counter()
    try:
        record = kb.add_document(
            doc_id,
            source,
            parsed.chunks,
            parsed.pages,
            on_progress=progress.chunks_done,
            outline=[entry.as_dict() for entry in parsed.outline],
        )
    except Interrupted as exc:  # asked to stop while the store was away: taken up again later
        return FileOutcome(source, "cancelled", doc_id, error=str(exc))
    except IngestError as exc:  # a reason already put into words (a full disk)
        return FileOutcome(source, "failed", doc_id, error=exc.reason)
    except Exception as exc:  # a broken store must not look like success
        return FileOutcome(source, "failed", doc_id, error=f"could not store the document: {exc}")
    embed = kb.embedding_seconds() - embed_before
    stats.embed_s += embed
    stats.write_s += (time.perf_counter() - t0) - embed
    stats.pages += parsed.pages
    stats.chunks += len(parsed.chunks)
    dropped = getattr(record, "edits_dropped", 0)
    note = (
        f"replaced its older version; {dropped} passage edit(s) made by hand went with it"
        if dropped
        else None
    )
    return FileOutcome(source, "indexed", doc_id, len(parsed.chunks), parsed.pages, note=note)


__all__ = [
    "FileOutcome",
    "IngestStats",
    "LoadLimits",
    "Progress",
    "SilentProgress",
    "expand_paths",
    "ingest_files",
]
