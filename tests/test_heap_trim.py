"""The server's heap trimmer: freed native memory kept inside glibc's heap goes back to the OS."""

import ctypes
import platform
import time

import pytest

from app.heap_trim import HeapTrimmer, rss_mb

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


def fragment_heap(blocks: int = 200_000, size: int = 1024) -> tuple[list[int], float]:
    """Allocates ~200 MB in small blocks and frees all but every 200th: the pages in between are
    free yet stay mapped, because a kept block above them pins the heap's top. Returns the kept
    blocks and the RSS at the peak."""
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    pointers = [libc.malloc(size) for _ in range(blocks)]
    for p in pointers:
        ctypes.memset(p, 1, size)  # touched, so the pages are resident
    peak, kept = rss_mb(), pointers[::200]
    for i, p in enumerate(pointers):
        if i % 200:
            libc.free(p)
    return kept, peak


@glibc
def test_a_trim_hands_back_freed_pages_held_inside_the_heap():
    kept, _ = fragment_heap()
    before = rss_mb()
    freed = HeapTrimmer(30).trim_once()
    assert freed > 100, f"RSS {before:.0f} MB, handed back {freed:.0f} MB"
    assert kept  # still allocated: the trim released only free pages


@glibc
def test_the_trimmer_runs_in_the_background_and_stops():
    trimmer = HeapTrimmer(0.05).start()
    kept, peak = fragment_heap()  # trims may run while it frees: compare with the peak
    deadline = time.monotonic() + 10
    while rss_mb() > peak - 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    trimmer.stop()
    assert rss_mb() < peak - 100
    assert kept


def test_zero_turns_it_off():
    trimmer = HeapTrimmer(0).start()
    assert trimmer.trim_once() == 0.0
    trimmer.stop()


def test_cyclic_garbage_holding_native_buffers_is_collected():
    """What llama-cpp-python leaves per sampled token: a reference cycle holding a native buffer.
    Once such cycles reach the oldest generation only a full collection frees them, which the
    trimmer runs every interval."""
    import gc

    class Cycle:
        def __init__(self):
            self.me = self
            self.buffer = ctypes.create_string_buffer(4 << 20)  # 4 MB, zeroed: resident

    cycles = [Cycle() for _ in range(50)]
    gc.collect()  # while they are referenced: moved to the oldest generation
    del cycles  # now garbage that only a full collection finds
    before = rss_mb()
    freed = HeapTrimmer(30).collect_and_trim()
    assert freed > 150, f"RSS {before:.0f} MB, handed back {freed:.0f} MB"
