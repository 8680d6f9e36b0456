"""What a long soak watches for leaks: the server's resident memory, open files, threads and
temporary files, sampled at an interval, and the least-squares slope of each per hour.

A server restarted mid-run starts afresh (its memory drops); the slope is fitted per server life and
the lives' slopes are averaged, weighted by their length, so a restart does not read as a fall.
"""

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MEASURES = ("rss_mb", "anon_mb", "file_mb", "open_files", "threads", "temp_files")


@dataclass
class Sample:
    minute: float
    life: int  # which server process (1 = the first start, +1 per restart)
    rss_mb: float
    open_files: int
    threads: int
    temp_files: int
    # RSS in two parts: anonymous memory (heaps: where a leak shows) and pages of mapped files
    # (the model's weights, the stores' files: bounded by the files' sizes)
    anon_mb: float = 0.0
    file_mb: float = 0.0


@dataclass
class Sampler:
    """Samples the process ``pid()`` names every ``interval_s`` until ``stop`` is set.
    ``temp_dir``: the server's TMPDIR, where its temporary files are counted."""

    pid: Callable[[], int | None]
    temp_dir: Path
    interval_s: float
    samples: list[Sample] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        t0, pids = time.monotonic(), []
        while True:
            pid = self.pid()
            if pid is not None:
                if not pids or pids[-1] != pid:
                    pids.append(pid)
                sample = self._sample(pid, (time.monotonic() - t0) / 60, len(pids))
                if sample is not None:
                    self.samples.append(sample)
            if stop.wait(self.interval_s):
                return

    def _sample(self, pid: int, minute: float, life: int) -> Sample | None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            return Sample(
                minute=round(minute, 2),
                life=life,
                rss_mb=round(int(fields["VmRSS"].split()[0]) / 1024, 1),
                open_files=len(os.listdir(f"/proc/{pid}/fd")),
                threads=int(fields["Threads"]),
                temp_files=sum(len(files) for _, _, files in os.walk(self.temp_dir)),
                anon_mb=_mb(fields.get("RssAnon")),
                file_mb=_mb(fields.get("RssFile")),
            )
        except (OSError, KeyError, ValueError):  # the process is restarting
            return None


def _mb(status_field: str | None) -> float:
    """A ``/proc/PID/status`` size ("  1234 kB") in MB; 0 where the kernel does not give it."""
    return round(int(status_field.split()[0]) / 1024, 1) if status_field else 0.0


def slope_per_hour(samples: list[Sample], measure: str) -> float | None:
    """Least-squares growth per hour within each server life, weighted by the life's length;
    the first 10 % of each life (loading the model, warming caches) is left out."""
    weighted, total = 0.0, 0.0
    for life in sorted({s.life for s in samples}):
        points = [s for s in samples if s.life == life]
        if len(points) < 4:
            continue
        span = points[-1].minute - points[0].minute
        points = [s for s in points if s.minute >= points[0].minute + 0.1 * span]
        hours = [s.minute / 60 for s in points]
        slope = least_squares(hours, [getattr(s, measure) for s in points])
        if slope is not None:
            weighted += slope * span
            total += span
    return weighted / total if total else None


def least_squares(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else None


def report(samples: list[Sample], every: int = 10) -> None:
    """A table of every ``every``-th sample, then first / last / max and the slope per measure."""
    if not samples:
        print("\n(no resource samples)")
        return
    print(
        "\n| minute | server life | RSS MB | anon MB | file MB | open files | threads"
        " | temp files |"
    )
    print("|---|---|---|---|---|---|---|---|")
    shown = samples[::every] + ([samples[-1]] if (len(samples) - 1) % every else [])
    for s in shown:
        print(
            f"| {s.minute:.0f} | {s.life} | {s.rss_mb:.0f} | {s.anon_mb:.0f} | {s.file_mb:.0f} |"
            f" {s.open_files} | {s.threads} |"
            f" {s.temp_files} |"
        )
    print("\n| measure | first | last | max | slope per hour (within a server life) |")
    print("|---|---|---|---|---|")
    for measure in MEASURES:
        values = [getattr(s, measure) for s in samples]
        slope = slope_per_hour(samples, measure)
        shown_slope = "–" if slope is None else f"{slope:+.2f}"
        print(f"| {measure} | {values[0]} | {values[-1]} | {max(values)} | {shown_slope} |")
