"""Free space where uploads and stores are written: the check before an upload is accepted, the
floor a running job stops writing at, and a small reserve file that is given back the moment the
disk runs out, so that a failed file can still be rolled back and its outcome recorded.

Why a floor below the upload margin rather than waiting for a write to fail: embedded Chroma can
hang on its next write once one of its writes has failed for lack of space (chromadb 1.5, seen on a
full tmpfs), so a job stops before Chroma itself runs out."""

import logging
import os
import shutil
import uuid
from pathlib import Path

from app.operations.errors import DiskFull

log = logging.getLogger("kb.disk")
_MB = 2**20
_RESERVE_MAX_MB = 16


def _mb(value: float) -> str:
    """1 decimal below 10 MB (0.4, 2.5, 8), none above."""
    return f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"


def disk_full_reason(free_mb: float, needed_mb: float) -> str:
    """The one sentence a full disk is reported with, at every door and on every failed file."""
    return f"disk full: {_mb(free_mb)} MB free, needs {_mb(needed_mb)} MB"


class DiskSpace:
    """Free space over ``paths`` (the data dir and the shared dir: whichever has less counts)."""

    def __init__(self, paths: list[Path], min_free_mb: float):
        self.paths = list(dict.fromkeys(Path(p) for p in paths))
        self.min_free_mb = min_free_mb
        self.floor_mb = min_free_mb / 4  # a job stops writing below this
        self.reserve = self.paths[0] / ".kb-reserve"
        self.reserve_mb = min(self.floor_mb, _RESERVE_MAX_MB)

    def free_mb(self) -> float:
        return min(shutil.disk_usage(_existing(p)).free for p in self.paths) / _MB

    def low(self) -> bool:
        """Less than the margin free: uploads are refused and /health says degraded."""
        return self.free_mb() < self.min_free_mb

    def reason(self, needed_mb: float | None = None) -> str:
        return disk_full_reason(
            self.free_mb(), self.min_free_mb if needed_mb is None else needed_mb
        )

    def check_upload(self, upload_bytes: int) -> None:
        """``DiskFull`` unless the upload and the margin both fit."""
        needed = upload_bytes / _MB + self.min_free_mb
        free = self.free_mb()
        if free < needed:
            raise DiskFull(disk_full_reason(free, needed))

    def check_write(self) -> None:
        """Before a job writes a batch: ``DiskFull`` below the floor, with the reserve given back
        first (the rollback that follows has room). While the reserve is given back, its room is
        kept free too: it is there for rollbacks and outcomes, not for more documents."""
        held_back = 0.0 if self.reserve.exists() else self.reserve_mb
        if self.free_mb() < self.floor_mb + held_back:
            self.release_reserve()
            raise DiskFull(self.reason())

    def release_reserve(self) -> None:
        if self.reserve.exists():
            self.reserve.unlink(missing_ok=True)
            log.warning(
                "disk full: reserve of %s MB released (%s)", _mb(self.reserve_mb), self.reason()
            )

    def keep_reserve(self) -> None:
        """Set the reserve aside again once the margin is free beside it (at each job's start)."""
        if self.reserve_mb <= 0 or self.reserve.exists():
            return
        if self.free_mb() - self.reserve_mb < self.min_free_mb:
            return
        partial = self.reserve.with_name(f".kb-reserve.{uuid.uuid4().hex[:8]}.partial")
        try:
            with open(partial, "wb") as out:
                for _ in range(int(self.reserve_mb)):
                    out.write(os.urandom(_MB))  # random: a compressing filesystem stores it whole
            partial.replace(self.reserve)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            log.warning("no disk reserve set aside: %s", exc)


def _existing(path: Path) -> Path:
    """The nearest folder that exists (the data dir may not have been made yet)."""
    path = Path(path).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
