"""The REST contract of a document's insides (its passages, page images and outline) and of
ratings of answers. Keep it stable."""

from typing import Literal

from pydantic import BaseModel, Field


class PassageInfo(BaseModel):
    source: str
    page: int | None = None
    doc_id: str
    chunk_id: str
    before: str = Field(
        description="the text just before the passage on its page (its neighbouring chunks)"
    )
    text: str
    after: str


class PassageItem(BaseModel):
    chunk_id: str
    doc_id: str
    index: int | None = Field(
        description="the passage's place in the document, from 0 (None: added by hand)"
    )
    page: int | None = None
    headings: str = Field(description="the heading path the passage sits under")
    text: str
    enabled: bool = Field(description="false: kept, but left out of search and answers")
    edited: bool = Field(description="its text was changed by hand")
    manual: bool = Field(False, description="added by hand")
    original_text: str | None = Field(
        None, description="the parsed text an edit replaced (what undo brings back)"
    )


class PassageChange(BaseModel):
    text: str | None = Field(
        None, max_length=100_000, description="new text: embedded again, keyword index updated"
    )
    enabled: bool | None = Field(None, description="false: leaves search and answers, is kept")


class NewPassage(BaseModel):
    text: str = Field(max_length=100_000)
    doc_id: str | None = Field(
        None, max_length=100, description="the document it joins (default: the notes added by hand)"
    )
    page: int | None = Field(None, ge=1, le=100_000)


class PassagePage(BaseModel):
    source: str
    doc_id: str
    total: int = Field(description="passages matching (all of the document's without q)")
    offset: int
    items: list[PassageItem]


class PageHighlights(BaseModel):
    page: int
    pages: int
    width: int = Field(description="image width in pixels")
    height: int
    boxes: list[list[float]] = Field(
        description="highlighted areas as [x0, y0, x1, y1] in image pixels"
    )


class OutlineEntry(BaseModel):
    level: int = Field(description="1 for a chapter, 2 for its sections, ...")
    title: str
    page_start: int | None = Field(description="first page (None: an unpaged format)")
    page_end: int | None
    chunk_start: int = Field(description="first passage of the section (its subsections included)")
    chunk_end: int
    chunk_id: str = Field(description="the first passage: .../passages/{chunk_id} opens it")
    digest: str = Field(description="the section's most central sentences, extracted")


class DocumentOutline(BaseModel):
    source: str
    doc_id: str
    pages: int
    entries: list[OutlineEntry] = Field(description="in document order; empty: no outline found")


class FeedbackRequest(BaseModel):
    kb: str = Field(min_length=1, max_length=200)
    answer_id: str = Field(min_length=1, max_length=64, description="from /ask or its done event")
    rating: Literal["up", "down"]
    reason: str | None = Field(None, max_length=2000)
    correct_answer: str | None = Field(
        None, max_length=4000, description="the right answer (a 👎's correction)"
    )


class FeedbackItem(BaseModel):
    answer_id: str
    rating: Literal["up", "down"]
    reason: str | None = None
    correct_answer: str | None = None
    rated_at: float
    question: str
    answer: str
    citations: list[dict]
    config: dict = Field(description="what answered: model, k, search mode, embedding, scope")
