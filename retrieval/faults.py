"""What a failed store call means: the disk is full, or the store (a Chroma server) cannot be
reached. Both are recognised wherever they surface: an ``OSError``, SQLite's own error, or Chroma's
``InternalError`` wrapping either (seen on a full tmpfs: ``Query error: Database error: ... (code:
13) database or disk is full``), and anywhere in an exception's chain."""

import errno

# What each layer says when a write finds no space: the OS, SQLite (code 13, SQLITE_FULL), Rust.
_DISK_FULL_TEXT = ("no space left on device", "database or disk is full", "os error 28")
_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def _chain(exc: BaseException | None):
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_disk_full(failure: BaseException | str | None) -> bool:
    """True when ``failure`` (an exception, or a reason already turned into text) is a full disk."""
    if failure is None:
        return False
    if isinstance(failure, str):
        return any(text in failure.lower() for text in _DISK_FULL_TEXT)
    for exc in _chain(failure):
        if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
            return True
        if is_disk_full(str(exc)):
            return True
    return False


def is_unreachable(failure: BaseException) -> bool:
    """True when the store could not be reached at all (a Chroma server down or restarting): the
    call may succeed later, unchanged."""
    import httpx

    for exc in _chain(failure):
        if isinstance(exc, httpx.TransportError | ConnectionError):
            return True
    return False
