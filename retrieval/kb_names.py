"""Knowledge-base names: what a name may be, the storage id it maps to, and the errors about
them."""

import hashlib
import re
import unicodedata
from dataclasses import dataclass

MAX_KB_NAME = 64
PREFIX = "kb_"  # every knowledge base's Chroma collections start with it


class KBError(Exception):
    """Base class; ``str()`` is a message for the user."""


class KBNotFound(KBError):
    pass


class KBExists(KBError):
    pass


class InvalidKBName(KBError):
    pass


@dataclass
class KBInfo:
    name: str
    documents: int
    chunks: int
    embedding: str | None = None  # the model that made its vectors (None: not stamped yet)


def validate_kb_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidKBName("knowledge-base name must not be empty")
    name = name.strip()
    if len(name) > MAX_KB_NAME:
        raise InvalidKBName(f"knowledge-base name is longer than {MAX_KB_NAME} characters")
    if (
        "/" in name
        or "\\" in name
        or any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)
    ):
        raise InvalidKBName(
            "knowledge-base name must not contain path separators or control characters"
        )
    return name


def store_id(name: str) -> str:
    """A Chroma-safe collection id for any printable name (Chinese, one character, spaces...)."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", name).strip("-").lower()[:24]
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]
    return f"{PREFIX}{slug + '-' if slug else ''}{digest}"
