"""Reading files into page-tagged text, splitting it, and ingesting it into a knowledge base."""

from ingest.errors import IngestError, Interrupted
from ingest.isolation import IsolatedParser, ParseLimits
from ingest.loaders import (
    SUPPORTED_EXTENSIONS,
    LoadLimits,
    file_sha256,
    is_supported,
    load_file,
    unsupported_reason,
)
from ingest.parse import ParsedFile, parse_and_split
from ingest.pipeline import (
    FileOutcome,
    IngestStats,
    Progress,
    SilentProgress,
    expand_paths,
    ingest_files,
)
from ingest.preview import PagePreview, render_page
from ingest.splitter import (
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_SIZE,
    DEFAULT_PAGE_CHUNK_OVERLAP,
    DEFAULT_PAGE_CHUNK_SIZE,
    ChineseTextSplitter,
)

__all__ = [
    "DEFAULT_CHUNK_OVERLAP",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_PAGE_CHUNK_OVERLAP",
    "DEFAULT_PAGE_CHUNK_SIZE",
    "SUPPORTED_EXTENSIONS",
    "ChineseTextSplitter",
    "FileOutcome",
    "IngestError",
    "IngestStats",
    "Interrupted",
    "IsolatedParser",
    "LoadLimits",
    "PagePreview",
    "ParseLimits",
    "ParsedFile",
    "Progress",
    "SilentProgress",
    "expand_paths",
    "file_sha256",
    "ingest_files",
    "is_supported",
    "load_file",
    "parse_and_split",
    "render_page",
    "unsupported_reason",
]
