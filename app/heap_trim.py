"""Every few seconds: a full garbage collection, then freed heap memory handed back to the system
(glibc's ``malloc_trim``).

Why: under hours of mixed load the server's resident memory grew ~220-260 MB/h while the traced
Python heap stayed flat (docs/benchmarks.md, "Where the soak's memory goes"). memray found where:
llama-cpp-python builds a sampler chain for every token it samples, and each one is a reference
cycle (its ``ExitStack`` holds a closure over itself), so only the cyclic garbage collector frees
it, together with the native buffer llama.cpp keeps in it (one entry per vocabulary token: 3 MB for
Gemma 3, 1.8 MB for Qwen2.5) and the 2 MB of log-probabilities our logits processor holds. Most die
young; the few a collection catches alive reach the oldest generation, which a large, long-lived
heap collects rarely, and pile up there. A full collection every ``interval_s`` frees them (about
0.1 s of the GIL); ``malloc_trim(0)`` then returns the pages glibc keeps inside its per-thread
arenas. Elsewhere than glibc the trim does nothing; the collection still runs.
"""

import ctypes
import ctypes.util
import gc
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
    """A daemon thread that collects garbage and calls ``malloc_trim(0)`` every ``interval_s``
    seconds (0: never)."""

    def __init__(self, interval_s: float):
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trim = _malloc_trim() if interval_s > 0 else None

    def start(self) -> "HeapTrimmer":
        if self.interval_s > 0 and self._thread is None:
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

    def collect_and_trim(self) -> float:
        """A full garbage collection (cyclic garbage holding native buffers), then the trim; the
        MB handed back."""
        before = rss_mb()
        gc.collect()
        self.trim_once()
        return max(0.0, before - rss_mb())

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            freed = self.collect_and_trim()
            if freed >= 16:
                log.debug("garbage collection and heap trim handed back %.0f MB", freed)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
