"""The data dir's schema version: a small JSON file beside the stores, read before anything opens
them. A data dir written before the file existed is version 1; each later layout change comes with
a migration here that carries a data dir over one version, and a data dir from a newer kb-assistant
is refused whole rather than half understood."""

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from app.operations.errors import OperationError

log = logging.getLogger("kb")

VERSION_FILE = "kb-assistant-data.json"
SCHEMA_VERSION = 2
# what a data dir holds once anything was stored in it (version 1 had these and no version file)
_STORED = ("chroma", "files", "jobs.sqlite", "keyword.sqlite", "uploads")


class DataDirTooNew(OperationError):
    status = 409


def _v1_to_v2(data_dir: Path) -> None:
    """Version 2 records each knowledge base's embedding model in its registry's metadata. The
    files are laid out as in version 1, and the stamp needs the embedding model, so each knowledge
    base is stamped when it is first opened (retrieval.embedding_identity), not here."""


# version -> the step that carries a data dir of that version to the next one
MIGRATIONS: dict[int, Callable[[Path], None]] = {1: _v1_to_v2}


def read_version(data_dir: Path) -> int | None:
    """The data dir's schema version; None for a new (empty or absent) one."""
    path = data_dir / VERSION_FILE
    if path.exists():
        return int(json.loads(path.read_text(encoding="utf-8"))["schema"])
    if any((data_dir / name).exists() for name in _STORED) or any(data_dir.glob("keyword-*")):
        return 1
    return None


def write_version(data_dir: Path, version: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{VERSION_FILE}.tmp"
    tmp.write_text(json.dumps({"schema": version, "written_by": "kb-assistant"}), encoding="utf-8")
    os.replace(tmp, data_dir / VERSION_FILE)  # a kill leaves the old version or the new, whole


def prepare_data_dir(data_dir: Path) -> int:
    """Carry ``data_dir`` over to :data:`SCHEMA_VERSION` (one migration at a time, the version
    written after each) and return the version it had; refuse one written by a newer release."""
    found = read_version(data_dir)
    if found is not None and found > SCHEMA_VERSION:
        raise DataDirTooNew(
            f"the data dir {data_dir} was written by a newer kb-assistant (data schema {found}); "
            f"this one reads up to schema {SCHEMA_VERSION}. Upgrade kb-assistant, or point "
            "KB_DATA_DIR at another folder; nothing in it was changed"
        )
    version = found if found is not None else SCHEMA_VERSION
    while version < SCHEMA_VERSION:
        log.info("data dir %s: migrating schema %d -> %d", data_dir, version, version + 1)
        MIGRATIONS[version](data_dir)
        version += 1
        write_version(data_dir, version)
    if found is None or found != version:
        write_version(data_dir, version)
    return found if found is not None else SCHEMA_VERSION
