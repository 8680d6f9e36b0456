"""A person's corrections to a knowledge base, for every door: a document's passages listed with
their marks, a passage edited, disabled or enabled, added by hand, removed (hand-added ones only),
an edit undone. The store keeps both indexes in step (retrieval/passage_edits.py)."""

from app.operations.errors import InvalidRequest, NotFound
from retrieval import KBNotFound


class PassageService:
    def __init__(self, knowledge, max_chars: int):
        self.knowledge = knowledge
        self.max_chars = max_chars

    def list(
        self, kb_name: str, doc_id: str, offset: int = 0, limit: int = 50, query: str = ""
    ) -> dict:
        """A document's passages in indexed order (those added by hand last), one page of them:
        {source, doc_id, total, offset, items}. ``query`` keeps only passages whose text holds it
        (case-insensitive); ``total`` counts those."""
        from retrieval.passage_edits import passage_view

        kb, record = self._document(kb_name, doc_id)
        items = [passage_view(cid, text, meta) for cid, text, meta in kb.document_chunks(doc_id)]
        needle = query.strip().casefold()
        if needle:
            items = [i for i in items if needle in i["text"].casefold()]
        return {
            "source": record.source,
            "doc_id": doc_id,
            "total": len(items),
            "offset": offset,
            "items": items[offset : offset + limit],
        }

    def change(
        self, kb_name: str, chunk: str, text: str | None = None, enabled: bool | None = None
    ) -> dict:
        """New ``text`` (embedded again) and/or ``enabled``; the passage as it now is."""
        if text is None and enabled is None:
            raise InvalidRequest("say what to change: text, enabled, or both")
        if text is not None:
            text = self._checked(text)
        with _passage_errors(kb_name, chunk):
            kb = self._open(kb_name)
            if text is not None:
                view = kb.edit_passage(chunk, text)
            if enabled is not None:
                view = kb.set_passage_enabled(chunk, enabled)
            return view

    def undo(self, kb_name: str, chunk: str) -> dict:
        with _passage_errors(kb_name, chunk):
            return self._open(kb_name).undo_edit(chunk)

    def add(
        self, kb_name: str, text: str, doc_id: str | None = None, page: int | None = None
    ) -> dict:
        """A passage written by hand, in document ``doc_id`` or in the knowledge base's notes."""
        text = self._checked(text)
        if doc_id is not None:
            self._document(kb_name, doc_id)
        with _passage_errors(kb_name, doc_id or ""):
            return self._open(kb_name).add_passage(text, doc_id, page)

    def remove(self, kb_name: str, chunk: str) -> None:
        with _passage_errors(kb_name, chunk):
            self._open(kb_name).remove_passage(chunk)

    # --- helpers ---------------------------------------------------------------------------------
    def _checked(self, text: str) -> str:
        text = text.strip()
        if not text:
            raise InvalidRequest("a passage's text cannot be empty")
        if len(text) > self.max_chars:
            raise InvalidRequest(
                f"a passage holds at most {self.max_chars} characters (KB_MAX_PASSAGE_CHARS); "
                f"this one has {len(text)}"
            )
        return text

    def _open(self, kb_name: str):
        try:
            return self.knowledge.open(kb_name)
        except KBNotFound as exc:
            raise NotFound(str(exc)) from None

    def _document(self, kb_name: str, doc_id: str):
        kb = self._open(kb_name)
        record = kb.document(doc_id)
        if record is None or record.status != "indexed":
            raise NotFound(f"document '{doc_id}' is not in knowledge base '{kb_name}'")
        return kb, record


class _passage_errors:
    """The store's passage errors as the doors' (404, 422)."""

    def __init__(self, kb_name: str, chunk: str):
        self.kb_name, self.chunk = kb_name, chunk

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from retrieval.passage_edits import PassageNotFound, PassageRefused

        if isinstance(exc, PassageNotFound):
            raise NotFound(
                f"no passage '{self.chunk}' in knowledge base '{self.kb_name}'"
            ) from None
        if isinstance(exc, PassageRefused):
            raise InvalidRequest(str(exc)) from None
        return False
