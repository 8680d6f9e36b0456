"""Files named by their path on this machine (the MCP door's add_documents): each path checked to
exist and be readable, folders read recursively, and each file then judged alone by its type, as an
upload is."""

import os
from pathlib import Path

from app.operations.errors import InvalidRequest


def local_batch(paths: list[str]) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
    """(files to ingest as (absolute path, name shown to users), refused (name, reason)).

    Raises InvalidRequest naming every path that is not absolute, does not exist or cannot be read
    (nothing is accepted then), or when the paths hold no file at all."""
    from ingest import expand_paths, unsupported_reason

    given = [Path(p).expanduser() for p in paths]
    problems = [f"'{raw}': {why}" for raw, p in zip(paths, given) if (why := _unusable(p))]
    if problems:
        raise InvalidRequest("cannot add " + "; ".join(problems))
    found = expand_paths(given)
    if not found:
        raise InvalidRequest(f"no files to add in {', '.join(paths)}")
    judged = [(p, unsupported_reason(p.name) or _unread(p)) for p in found]
    refused = [(p.name, why) for p, why in judged if why]
    return [(p.resolve(), p.name) for p, why in judged if not why], refused


def _unusable(path: Path) -> str | None:
    # Relative paths would resolve against wherever the server happened to start: refused.
    if not path.is_absolute():
        return "not an absolute path"
    if not path.exists():
        return "no such file or folder"
    if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
        return "folder not readable"
    return _unread(path)


def _unread(path: Path) -> str | None:
    return None if path.is_dir() or os.access(path, os.R_OK) else "file not readable"
