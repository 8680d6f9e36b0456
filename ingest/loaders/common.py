"""Shared helpers for loaders: limits, hashing, decoding."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError

# on_page(pages done, pages in all, whether that page was OCR'd): progress from inside a paged
# loader
PageProgress = Callable[[int, int, bool], None]


@dataclass(frozen=True)
class LoadLimits:
    """Bounds that keep one hostile file from exhausting the machine."""

    max_file_bytes: int = 200 * 2**20
    max_pages: int = 5000
    # Images bigger than this (decoded pixels) are never rendered: decompression bombs.
    max_image_pixels: int = 60_000_000
    ocr: bool = True
    ocr_dpi: int = 150
    tables: bool = True
    # Running headers, footers and page numbers out of PDF page text (ingest/loaders/furniture.py).
    strip_furniture: bool = True


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode_text(raw: bytes) -> str:
    """Decode bytes from the encodings Chinese users' files come in (UTF-8, GB18030, UTF-16,
    Big5)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:4096] and _looks_utf16(raw):
        return raw.decode("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be", errors="replace")
    try:
        # GB18030 is a superset of GBK/GB2312 and the most common legacy encoding here.
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise IngestError("not a text file (could not detect its encoding)")
    return str(best)


def _looks_utf16(raw: bytes) -> bool:
    sample = raw[:4096]
    zeros_even = sample[0::2].count(0)
    zeros_odd = sample[1::2].count(0)
    return max(zeros_even, zeros_odd) > len(sample) // 8
