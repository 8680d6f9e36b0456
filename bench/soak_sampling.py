"""What a soak watches for leaks: the server process's resident memory, open files, threads, the
memory of its children (the parser worker), and the files in its temporary dir, read from /proc at a
fixed interval. Printed as a table of samples and, per measure, the least-squares slope per hour.

The slope is fitted within each life of the process (between the soak's kills), each with its own
intercept, so a restart's drop is not read as a trend; the first minutes of each life (imports,
model load, caches filling) are left out. A leak shows as a steady positive slope."""

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

MEASURES = ("rss_mb", "children_rss_mb", "open_files", "threads", "tmp_files")


@dataclass
class Sample:
    t_s: float  # since the soak began
    pid: int
    rss_mb: float
    children_rss_mb: float
    open_files: int
    threads: int
    tmp_files: int


def _status(pid: int) -> dict[str, str]:
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        return dict(line.split(":", 1) for line in f if ":" in line)


def _rss_mb(status: dict[str, str]) -> float:
    return int(status.get("VmRSS", "0 kB").split()[0]) / 1024


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (the parser worker, and whatever it started)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        kids = [child for child, parent in parents.items() if parent in frontier]
        found += kids
        frontier = kids
    return found


def read_sample(pid: int, tmp_dir: Path, t_s: float) -> Sample | None:
    """One sample of ``pid``; None when the process is gone (killed, restarting)."""
    try:
        status = _status(pid)
        open_files = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None
    children = 0.0
    for child in _children(pid):
        try:
            children += _rss_mb(_status(child))
        except OSError:
            continue
    return Sample(
        round(t_s, 1),
        pid,
        round(_rss_mb(status), 1),
        round(children, 1),
        open_files,
        int(status.get("Threads", "0")),
        sum(1 for p in tmp_dir.rglob("*") if p.is_file()) if tmp_dir.is_dir() else 0,
    )


class Sampler(threading.Thread):
    """Samples ``pid_of()`` (the current server process) every ``every_s`` until ``stop()``."""

    def __init__(self, pid_of: Callable[[], int | None], tmp_dir: Path, every_s: float):
        super().__init__(name="soak-sampler", daemon=True)
        self.pid_of, self.tmp_dir, self.every_s = pid_of, tmp_dir, every_s
        self.samples: list[Sample] = []
        self._began, self._done = time.monotonic(), threading.Event()

    def run(self) -> None:
        while True:
            pid = self.pid_of()
            if pid is not None:
                sample = read_sample(pid, self.tmp_dir, time.monotonic() - self._began)
                if sample is not None:
                    self.samples.append(sample)
            if self._done.wait(self.every_s):
                return

    def stop(self) -> None:
        self._done.set()
        self.join(30)


def _settled(samples: list[Sample], warmup_s: float) -> dict[int, list[Sample]]:
    """Samples per life of the process, its first ``warmup_s`` left out."""
    lives: dict[int, list[Sample]] = {}
    for s in samples:
        lives.setdefault(s.pid, []).append(s)
    return {
        pid: [s for s in life if s.t_s - life[0].t_s >= warmup_s] for pid, life in lives.items()
    }


def slope_per_hour(samples: list[Sample], measure: str, warmup_s: float) -> float | None:
    """Least-squares slope of ``measure`` per hour, pooled over the process's lives (each with its
    own intercept); None with fewer than 3 settled samples."""
    num = den = 0.0
    count = 0
    for life in _settled(samples, warmup_s).values():
        if len(life) < 2:
            continue
        xs = [s.t_s / 3600 for s in life]
        ys = [float(getattr(s, measure)) for s in life]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        num += sum((x - mx) * (y - my) for x, y in zip(xs, ys))
        den += sum((x - mx) ** 2 for x in xs)
        count += len(life)
    return num / den if den and count >= 3 else None


def table(samples: list[Sample]) -> str:
    names = [f.name for f in fields(Sample)]
    rows = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    rows += ["| " + " | ".join(str(getattr(s, n)) for n in names) + " |" for s in samples]
    return "\n".join(rows)


def slopes_table(samples: list[Sample], warmup_s: float) -> str:
    """Per measure: first and last settled value, min, max, and the slope per hour."""
    settled = [s for life in _settled(samples, warmup_s).values() for s in life]
    rows = [
        f"samples: {len(samples)} ({len(settled)} after each life's first {warmup_s:.0f} s), "
        f"process lives: {len({s.pid for s in samples})}",
        "",
        "| measure | first | last | min | max | slope per hour |",
        "|---|---|---|---|---|---|",
    ]
    for m in MEASURES:
        values = [getattr(s, m) for s in settled] or [0]
        slope = slope_per_hour(samples, m, warmup_s)
        shown = "–" if slope is None else f"{slope:+.2f}"
        rows.append(
            f"| {m} | {values[0]} | {values[-1]} | {min(values)} | {max(values)} | {shown} |"
        )
    return "\n".join(rows)
