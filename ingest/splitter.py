"""A Chinese-aware splitter: sentence boundaries of both languages, Markdown tables kept
row-whole."""

import re
from collections.abc import Iterable

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

# Chosen by measurement (see README, "Chunk size"): hit@5 on CMRC/SQuAD contexts and embedding cost.
DEFAULT_CHUNK_SIZE = 400
DEFAULT_CHUNK_OVERLAP = 50
# Pages (PDFs) are split finer: a paged document's hits are grouped and ranked by page (one hit per
# page, the page rescored on its whole text), so a chunk only has to match; a small one matches the
# one sentence a question is about. Measured on the long-document benchmark (README, "Long
# documents").
DEFAULT_PAGE_CHUNK_SIZE = 250
DEFAULT_PAGE_CHUNK_OVERLAP = 30

# Coarse to fine: paragraphs, lines, sentence ends (zh + en), clauses, words, characters.
_SEPARATORS = [
    r"\n\n",
    r"\n",
    r"[。！？!?…]+[”’」』）)]?",
    r"(?<=[.])\s+",
    r"[；;]",
    r"[，,、]",
    r"\s+",
    "",
]
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")


def _check(size: int, overlap: int, what: str) -> None:
    if size < 50:
        raise ValueError(f"{what}chunk_size must be at least 50 characters")
    if not 0 <= overlap < size:
        raise ValueError(f"{what}chunk_overlap must be >= 0 and smaller than {what}chunk_size")


class ChineseTextSplitter:
    """Splits Documents into chunks of at most ``chunk_size`` characters (tables may keep one long
    row); a Document with a ``page`` (a PDF page) into chunks of ``page_chunk_size`` (default:
    ``chunk_size``)."""

    def __init__(
        self,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        chunk_overlap: int = DEFAULT_CHUNK_OVERLAP,
        page_chunk_size: int | None = None,
        page_chunk_overlap: int | None = None,
    ):
        _check(chunk_size, chunk_overlap, "")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.page_chunk_size = page_chunk_size or chunk_size
        if page_chunk_overlap is None:
            page_chunk_overlap = (
                min(chunk_overlap, self.page_chunk_size // 8) if page_chunk_size else chunk_overlap
            )
        self.page_chunk_overlap = page_chunk_overlap
        _check(self.page_chunk_size, self.page_chunk_overlap, "page_")
        self._prose = _prose_splitter(chunk_size, chunk_overlap)
        self._page_prose = _prose_splitter(self.page_chunk_size, self.page_chunk_overlap)

    def config(self) -> dict:
        """The arguments that make this splitter again (the parsing worker builds its own)."""
        return {
            "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap,
            "page_chunk_size": self.page_chunk_size,
            "page_chunk_overlap": self.page_chunk_overlap,
        }

    def split_text(self, text: str, paged: bool = False) -> list[str]:
        prose, size = (
            (self._page_prose, self.page_chunk_size) if paged else (self._prose, self.chunk_size)
        )
        chunks: list[str] = []
        for is_table, block in _blocks(text):
            if is_table:
                chunks.extend(_split_table(block, size))
            else:
                chunks.extend(prose.split_text(block))
        return [c for c in chunks if c.strip()]

    def split_documents(self, documents: Iterable[Document]) -> list[Document]:
        """Each Document (a page, a section) is split on its own: a chunk never spans two pages.

        Every chunk keeps its page's metadata and ``headings``, the heading path it sits under. A
        page whose
        outline says headings start on it (``heading_starts``, one path a line, from the PDF loader)
        gives
        each chunk the path of the last of them that starts before the chunk's middle.
        """
        out: list[Document] = []
        for doc in documents:
            base = {k: v for k, v in doc.metadata.items() if k != "heading_starts"}
            starts = _heading_positions(doc.page_content, doc.metadata.get("heading_starts", ""))
            cursor = 0
            for piece in self.split_text(
                doc.page_content, paged=doc.metadata.get("page") is not None
            ):
                meta = dict(base)
                meta["headings"] = base.get("headings", "")
                if starts:
                    found = doc.page_content.find(piece[:40], cursor)
                    if found >= 0:
                        cursor = found
                    middle = cursor + len(piece) // 2
                    meta["headings"] = next(
                        (path for pos, path in reversed(starts) if pos <= middle), meta["headings"]
                    )
                out.append(Document(page_content=piece, metadata=meta))
        return out


def _prose_splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        separators=_SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        chunk_size=size,
        chunk_overlap=overlap,
        strip_whitespace=True,
    )


def _split_table(block: str, chunk_size: int) -> list[str]:
    """Rows are never cut; each chunk repeats the header so it reads as a table on its own."""
    rows = block.split("\n")
    header = (
        rows[:2]
        if len(rows) > 1 and set(rows[1].replace("|", "").strip()) <= set("-: ")
        else rows[:1]
    )
    body = rows[len(header) :]
    head_text = "\n".join(header)
    chunks: list[str] = []
    current: list[str] = []
    size = len(head_text)
    for row in body:
        if current and size + len(row) + 1 > chunk_size:
            chunks.append("\n".join([head_text, *current]))
            current, size = [], len(head_text)
        current.append(row)
        size += len(row) + 1
    if current or not chunks:
        chunks.append("\n".join([head_text, *current]))
    return chunks


def _heading_positions(text: str, heading_starts: str) -> list[tuple[int, str]]:
    """(offset in ``text``, path) of each heading starting on this page, found by its last part's
    words (extraction may add spaces, as in "式(6.5) 的解释"); a heading not found counts from the
    page top."""
    out: list[tuple[int, str]] = []
    cursor = 0
    for path in filter(None, heading_starts.split("\n")):
        last = path.split(" > ")[-1]
        pattern = r"\s*".join(re.escape(c) for c in last if not c.isspace())
        match = re.compile(pattern).search(text, cursor) if pattern else None
        pos = match.start() if match else cursor
        cursor = pos
        out.append((pos, path))
    return out


def _blocks(text: str) -> list[tuple[bool, str]]:
    """Cut text into alternating (is_table, block) runs of lines."""
    blocks: list[tuple[bool, list[str]]] = []
    for line in text.split("\n"):
        is_table = bool(_TABLE_ROW.match(line))
        if blocks and blocks[-1][0] == is_table:
            blocks[-1][1].append(line)
        else:
            blocks.append((is_table, [line]))
    return [(t, "\n".join(lines)) for t, lines in blocks if "\n".join(lines).strip()]
