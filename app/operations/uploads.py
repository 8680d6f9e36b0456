"""Saving uploaded files under the data dir: safe names, a size cap, room on the disk checked
first, never a path from the request."""

import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from app.operations.disk import DiskSpace
from app.operations.errors import DiskFull
from retrieval import is_disk_full

_BLOCK = 1 << 20


def safe_filename(name: str) -> str:
    """The last path component only, no control characters, bounded length."""
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    name = re.sub(r"\s+", " ", name)
    if len(name) > 150:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:140] + dot + suffix) if dot else name[:150]
    return name or "upload"


def save_uploads(
    folder: Path,
    files: Iterable[tuple[str, BinaryIO]],
    limit_bytes: int,
    disk: DiskSpace | None = None,
) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """Copy each (file name, readable stream) into ``folder`` (a new one) under a safe name.

    Returns (saved: (path, name shown to users), rejected: (name, reason)); a file over the limit is
    removed as soon as it passes it, and the others are still saved. With ``disk``: ``DiskFull``
    before anything is written unless the files and the free-space margin fit, and (the disk filled
    meanwhile) after removing what was written.
    """
    files = list(files)
    size = sum(
        n for _, stream in files if (n := stream_size(stream)) is not None and n <= limit_bytes
    )
    if disk is not None:
        disk.check_upload(size)
    try:
        return _save_all(folder, files, limit_bytes)
    except OSError as exc:
        if disk is None or not is_disk_full(exc):
            raise
        shutil.rmtree(folder, ignore_errors=True)
        raise DiskFull(disk.reason(size / 2**20 + disk.min_free_mb)) from exc


def _save_all(folder: Path, files: list[tuple[str, BinaryIO]], limit_bytes: int):
    saved, rejected = [], []
    for raw_name, stream in files:
        name = safe_filename(raw_name or "upload")
        path = _save_one(stream, _free_path(folder, name), limit_bytes)
        if path is None:
            rejected.append((name, f"larger than the upload limit of {limit_bytes // 2**20} MB"))
        else:
            saved.append((path, name))
    return saved, rejected


def stream_size(stream: BinaryIO) -> int | None:
    """Bytes left in a seekable stream (None when it cannot say): what saving it will take."""
    try:
        at = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(at)
    except (AttributeError, OSError, ValueError):
        return None
    return end - at


def discard(saved: list[tuple[Path, str]]) -> None:
    for path, _ in saved:
        path.unlink(missing_ok=True)


def _free_path(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if target.exists():
        target = target.with_name(f"{target.stem}-{uuid.uuid4().hex[:6]}{target.suffix}")
    return target


def _save_one(stream: BinaryIO, target: Path, limit: int) -> Path | None:
    size = 0
    with open(target, "wb") as out:
        while block := stream.read(_BLOCK):
            size += len(block)
            if size > limit:
                break
            out.write(block)
    if size > limit:
        target.unlink(missing_ok=True)
        return None
    return target
