"""The server limits glibc's malloc arenas (KB_MALLOC_ARENAS, default 2): threads that allocate
share a few arenas instead of growing one each (the soak's resident-memory growth)."""

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

# threads that each allocate and keep a little memory, then the count of glibc arena heaps: 64 MB
# reservations made of a read-write part and an inaccessible rest
CHILD = textwrap.dedent(
    """
    import json, re, threading
    from app.settings import prepare_process_env
    prepare_process_env()
    kept, ready = [], threading.Barrier(9)
    def work():
        kept.append([bytearray(2000) for _ in range(2000)])
        ready.wait()
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    ready.wait()
    regions = []
    for line in open("/proc/self/maps"):
        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\\S+) \\S+ \\S+ \\S+\\s*(.*)$", line.rstrip())
        regions.append((int(m[1], 16), int(m[2], 16), m[3], m[4]))
    heaps = sum(
        1 for a, b in zip(regions, regions[1:])
        if not a[3] and not b[3] and a[2].startswith("rw") and b[2] == "---p"
        and a[1] == b[0] and b[1] - a[0] == 64 << 20
    )
    print(json.dumps(heaps))
    """
)


def arena_heaps(env_value: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        env={"KB_MALLOC_ARENAS": env_value, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_threads_share_at_most_the_configured_arenas():
    unlimited = arena_heaps("0")
    if unlimited < 3:
        pytest.skip(f"this libc made only {unlimited} thread arenas for 8 threads unlimited")
    # the main arena is the program's heap; KB_MALLOC_ARENAS=2 leaves one more for threads
    assert arena_heaps("2") <= 1 < unlimited
