"""Which native allocation sites hold the memory a long-running server gains: the soak's load
(bench.load.soak_load) against one `kb serve --no-ui` run under memray with native stacks, then,
from memray's temporal records, the stacks whose live bytes grew most between the first memory
snapshot after warm-up and the last.

python -m bench.load.memray_trace [--minutes 30] [--warmup-min 8] [--pace 3]
python -m bench.load.memray_trace --report-only /tmp/kb-memray-XXXX/server.bin

tracemalloc (bench.load.memory_trace) sees Python objects only; this sees every malloc, so a C
library's growth (llama.cpp, Chroma's Rust core, SQLite, ONNX, OpenMP) shows with its own frames.
Needs memray: ``pip install -e ".[bench]"``. Native tracking slows the server several times over:
read the stacks, not the request rates.
"""

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.load.memory_trace import run_load, start_traced


def start_server(data: Path, out: Path, model: str) -> tuple:
    memray = [sys.executable, "-m", "memray", "run", "--native", "-q", "-o", str(out)]
    return start_traced(data, model, [*memray, "-m", "bench.load.traced_server"], [])


def _live(intervals, snapshot: int) -> int:
    """Bytes of a temporal record still allocated at ``snapshot``."""
    return sum(
        i.n_bytes
        for i in intervals
        if i.allocated_before_snapshot <= snapshot
        and (i.deallocated_before_snapshot is None or i.deallocated_before_snapshot > snapshot)
    )


def _where(record, frames: int) -> str:
    stack = record.hybrid_stack_trace(max_stacks=frames)
    return "\n".join(f"    {fn}  ({Path(file).name}:{line})" for fn, file, line in stack)


def report(path: Path, warmup_min: float, top: int, frames: int) -> None:
    from memray import FileReader

    reader = FileReader(str(path))
    snaps = list(reader.get_memory_snapshots())
    if len(snaps) < 2:
        print("too few memory snapshots")
        return
    t0 = snaps[0].time
    first = next(
        (i for i, s in enumerate(snaps) if (s.time - t0) / 60000 >= warmup_min), len(snaps) // 3
    )
    last = len(snaps) - 1
    minutes = (snaps[last].time - snaps[first].time) / 60000
    rss = (snaps[last].rss - snaps[first].rss) / 2**20
    heap = (snaps[last].heap - snaps[first].heap) / 2**20
    print(
        f"snapshot {first} to {last} ({minutes:.1f} min): RSS {rss:+.0f} MB, "
        f"heap {heap:+.0f} MB ({heap / max(minutes, 1e-9) * 60:+.0f} MB/h)"
    )
    growth: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in reader.get_temporal_allocation_records(merge_threads=True):
        diff = _live(record.intervals, last) - _live(record.intervals, first)
        if diff:
            key = _where(record, frames)
            growth[key][0] += diff
            growth[key][1] += 1
    ranked = sorted(growth.items(), key=lambda kv: kv[1][0], reverse=True)
    total = sum(g for g, _ in growth.values())
    print(f"net growth of all stacks: {total / 2**20:+.1f} MB\n")
    for key, (size, n) in ranked[:top]:
        print(f"{size / 2**20:+.2f} MB ({n} records)\n{key}\n")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--warmup-min", type=float, default=8)
    ap.add_argument("--pace", type=float, default=3.0)
    ap.add_argument("--model", default="gemma-3-270m")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--frames", type=int, default=14, help="stack frames that name a site")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--report-only", type=Path, default=None, help="a memray capture to read")
    args = ap.parse_args()
    if args.report_only:
        report(args.report_only, args.warmup_min, args.top, args.frames)
        return 0
    data = Path(tempfile.mkdtemp(prefix="kb-memray-"))
    out = data / "server.bin"
    proc, base = start_server(data, out, args.model)
    print(f"data dir {data}; server up under memray; load for {args.minutes:.0f} min", flush=True)
    try:
        tally = run_load(base, args.minutes, args.pace, args.seed)
    finally:
        proc.terminate()
        proc.wait(300)
    print({route: dict(codes) for route, codes in tally.codes.items()})
    report(out, args.warmup_min, args.top, args.frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
