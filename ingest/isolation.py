"""Parse each file in a forked child with a memory cap and a deadline.

A hostile file (a decompression bomb, a cyclic page tree) can hang or balloon inside C code where
Python cannot interrupt it; a child process can always be killed, and the parent never sees more
than a clear reason.
"""

import multiprocessing as mp
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from langchain_core.documents import Document

from ingest.errors import IngestError
from ingest.loaders import LoadLimits, load_file
from ingest.splitter import ChineseTextSplitter


@dataclass(frozen=True)
class ParseLimits:
    timeout_s: float = 300.0
    memory_mb: int = 2048


@dataclass
class ParsedFile:
    chunks: list[Document]
    pages: int
    parse_s: float = 0.0
    split_s: float = 0.0
    meta: dict = field(default_factory=dict)


def parse_and_split(path: Path, source: str, load_limits: LoadLimits, splitter: ChineseTextSplitter) -> ParsedFile:
    """In-process parse + split (used by the child, and directly by tests)."""
    start = time.perf_counter()
    docs = load_file(path, load_limits, source=source)
    parsed = time.perf_counter()
    chunks = splitter.split_documents(docs)
    for index, chunk in enumerate(chunks):
        chunk.metadata["chunk_index"] = index
    pages = max((d.metadata.get("page_count") or d.metadata.get("page") or 1) for d in docs)
    return ParsedFile(chunks, pages, parsed - start, time.perf_counter() - parsed)


def _child(conn, path, source, load_limits, chunk_size, chunk_overlap, memory_mb):
    try:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        splitter = ChineseTextSplitter(chunk_size, chunk_overlap)
        conn.send(("ok", parse_and_split(Path(path), source, load_limits, splitter)))
    except IngestError as exc:
        conn.send(("error", exc.reason))
    except MemoryError:
        conn.send(("error", f"file needs more than {memory_mb} MB of memory to read; skipped"))
    except Exception as exc:  # a loader bug must still end as a per-file outcome
        conn.send(("error", f"could not read the file ({type(exc).__name__}: {str(exc)[:160]})"))
    finally:
        conn.close()


class IsolatedParser:
    """Runs ``parse_and_split`` in a child process per file (forkserver: no inherited threads)."""

    def __init__(self, load_limits: LoadLimits, splitter: ChineseTextSplitter, limits: ParseLimits | None = None):
        self.load_limits = load_limits
        self.splitter = splitter
        self.limits = limits or ParseLimits()
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["ingest.loaders", "ingest.splitter", "ingest.isolation"])

    def parse(self, path: Path, source: str) -> ParsedFile:
        receiver, sender = self._ctx.Pipe(duplex=False)
        child = self._ctx.Process(
            target=_child,
            args=(sender, str(path), source, self.load_limits, self.splitter.chunk_size,
                  self.splitter._prose._chunk_overlap, self.limits.memory_mb),
            daemon=True,
        )
        child.start()
        sender.close()
        try:
            if not receiver.poll(self.limits.timeout_s):
                raise IngestError(f"reading the file took longer than {self.limits.timeout_s:.0f} s; skipped")
            status, payload = receiver.recv()
        except EOFError:
            raise IngestError(
                f"the file crashed the reader (it may need more than {self.limits.memory_mb} MB); skipped"
            ) from None
        finally:
            receiver.close()
            if child.is_alive():
                child.kill()
            child.join(5)
        if status == "error":
            raise IngestError(payload)
        return payload
