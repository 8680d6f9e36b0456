"""`kb serve --no-ui` under tracemalloc: a snapshot of the Python heap every --every-s seconds into
--snapshots, with the process's RSS beside it, so bench.load.memory_trace can tell which allocation
sites grow and whether the growth is Python memory at all (RSS growing while traced memory stays
flat points at native code or the allocator)."""

import argparse
import threading
import time
import tracemalloc
from pathlib import Path


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def snapshot_every(folder: Path, every_s: float, stop: threading.Event) -> None:
    t0, n = time.monotonic(), 0
    while not stop.wait(every_s):
        n += 1
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        minute = (time.monotonic() - t0) / 60
        snap.dump(str(folder / f"{n:03d}-{minute:06.1f}min-{rss_mb():.0f}MB.snap"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument(
        "--snapshots", type=Path, default=None, help="without: no tracemalloc (memray_trace)"
    )
    ap.add_argument("--every-s", type=float, default=300)
    ap.add_argument("--frames", type=int, default=12, help="traceback depth kept per allocation")
    args = ap.parse_args()
    stop = threading.Event()
    if args.snapshots is not None:
        tracemalloc.start(args.frames)
        args.snapshots.mkdir(parents=True, exist_ok=True)
        threading.Thread(
            target=snapshot_every, args=(args.snapshots, args.every_s, stop), daemon=True
        ).start()
    import uvicorn

    from app.web import create_app

    uvicorn.run(create_app(with_ui=False), host="127.0.0.1", port=args.port, log_level="warning")
    stop.set()


if __name__ == "__main__":
    main()
