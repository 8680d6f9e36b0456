"""Parse files in a separate worker process with a memory cap and a per-file deadline.

A hostile file (a decompression bomb, a cyclic page tree) can hang or balloon inside C code where
Python cannot interrupt it; a worker process can always be killed, and the caller never sees more
than a clear reason. The worker is reused across files and restarted after a kill or a crash.
"""

import os
import pickle
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError
from ingest.framing import HEADER, write_frame
from ingest.loaders import LoadLimits
from ingest.loaders.common import PageProgress
from ingest.parse import ParsedFile
from ingest.splitter import ChineseTextSplitter

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


@dataclass(frozen=True)
class ParseLimits:
    timeout_s: float = 300.0
    memory_mb: int = 2048


class IsolatedParser:
    def __init__(
        self,
        load_limits: LoadLimits,
        splitter: ChineseTextSplitter,
        limits: ParseLimits | None = None,
    ):
        self.load_limits = load_limits
        self.splitter = splitter
        self.limits = limits or ParseLimits()
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def parse(self, path: Path, source: str, on_page: PageProgress | None = None) -> ParsedFile:
        """The file's chunks, parsed in the worker; ``on_page(done, total, ocr)`` hears each page
        read."""
        request = (
            Path(path),
            source,
            self.load_limits,
            self.splitter.config(),
            self.limits.memory_mb,
        )
        with self._lock:
            proc = self._worker()
            deadline = time.monotonic() + self.limits.timeout_s
            try:
                write_frame(proc.stdin, pickle.dumps(request))
                status, payload = pickle.loads(self._read_reply(proc, deadline))
                while status == "progress":
                    if on_page is not None:
                        on_page(*payload)
                    status, payload = pickle.loads(self._read_reply(proc, deadline))
            except TimeoutError:
                self._kill()
                raise IngestError(
                    f"reading the file took longer than {self.limits.timeout_s:.0f} s; skipped"
                ) from None
            except (EOFError, BrokenPipeError, pickle.UnpicklingError):
                self._kill()
                raise IngestError(
                    f"the file crashed the reader (it may need more than {self.limits.memory_mb}"
                    " MB); skipped"
                ) from None
            if status == "fatal":
                self._kill()
        if status == "ok":
            return payload
        raise IngestError(payload)

    def _worker(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")])
                ),
            }
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "ingest.worker", str(self.limits.memory_mb)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        return self._proc

    def _read_reply(self, proc: subprocess.Popen, deadline: float) -> bytes:
        header = self._read_exact(proc, HEADER.size, deadline)
        (size,) = HEADER.unpack(header)
        return self._read_exact(proc, size, deadline)

    @staticmethod
    def _read_exact(proc: subprocess.Popen, size: int, deadline: float) -> bytes:
        assert proc.stdout is not None  # started with stdout=PIPE
        fd = proc.stdout.fileno()
        # poll, not select: select() cannot watch a descriptor numbered 1024 or more, which a
        # process holding many open stores reaches
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        chunks, remaining = [], size
        while remaining:
            wait = deadline - time.monotonic()
            if wait <= 0 or not poller.poll(wait * 1000):
                raise TimeoutError
            block = os.read(fd, min(remaining, 1 << 20))
            if not block:
                raise EOFError
            chunks.append(block)
            remaining -= len(block)
        return b"".join(chunks)

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
            self._proc = None

    def close(self) -> None:
        with self._lock:
            if (
                self._proc is not None
                and self._proc.poll() is None
                and self._proc.stdin is not None
            ):
                self._proc.stdin.close()  # the worker exits on EOF
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
            self._proc = None

    def __del__(self):
        try:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
        except Exception:
            pass
