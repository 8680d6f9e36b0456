"""What a chunk is indexed as: its text, led by the document title and heading path it sits under.

A page of a long book rarely names its subject: page 120 of a machine-learning book says "the dual
problem" without "support vector machine", which only its chapter heading says. Giving the embedder
and the keyword index ``title > chapter > section`` with each chunk lets a question find the page by
the subject it is about. The stored text (what users and the answer model read) stays the chunk
alone.
"""

import re
from collections.abc import Mapping

_SEP = " > "
_NOISE = re.compile(r"[\s_\-]+")


def _key(part: str) -> str:
    return _NOISE.sub(" ", part).strip().lower()


def chunk_context(metadata: Mapping) -> str:
    """``title > heading > sub-heading`` from a chunk's metadata ("" when there is none).

    The title is the document's own (a PDF's title, a file name's stem); a heading equal to the
    title or
    to the heading before it is said once.
    """
    parts: list[str] = []
    title = str(metadata.get("title") or "").strip()
    if title:
        parts.append(_NOISE.sub(" ", title).strip())
    for heading in str(metadata.get("headings") or "").split(_SEP):
        heading = heading.strip().lstrip("#").strip()
        if heading and all(_key(heading) != _key(p) for p in parts[-2:]):
            parts.append(heading)
    return _SEP.join(parts)


def index_text(text: str, metadata: Mapping) -> str:
    """The text given to the embedder and the keyword index for one chunk."""
    context = chunk_context(metadata)
    if not context or text.startswith(context):
        return text
    return f"{context}\n{text}"
