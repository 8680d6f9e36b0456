"""The answer chain: (history +) question -> condensed query -> retrieval -> prompt -> LLM -> cited answer."""

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from langchain_core.language_models import BaseChatModel

import prompts
from retrieval import Hit

_MARKER = re.compile(r"\[(\d{1,2})\]")


@dataclass
class Citation:
    n: int
    source: str
    page: int | None
    text: str
    score: float
    doc_id: str = ""


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    timings: dict
    model: str
    query: str = ""
    found: bool = True  # False: the knowledge base had nothing relevant, the model was not called

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ChainOptions:
    k: int = 5
    min_dense_score: float = 0.84
    context_chars: int = 3000
    prompts_dir: str | None = None
    condense_history: bool = True


@dataclass
class AnswerChain:
    search: Callable[[str, int], list[Hit]]
    chat_model: BaseChatModel
    model_name: str
    options: ChainOptions = field(default_factory=ChainOptions)
    explain_error: Callable[[BaseException], Exception] | None = None

    def invoke(self, question: str, history: list[dict] | None = None) -> Answer:
        answer = None
        for kind, payload in self.stream(question, history):
            if kind == "answer":
                answer = payload
        return answer

    def stream(self, question: str, history: list[dict] | None = None) -> Iterator[tuple[str, object]]:
        """Yields ("token", str)..., then ("citations", [Citation]), then ("answer", Answer)."""
        start = time.perf_counter()
        lang = prompts.detect_language(question)
        query = self._condense(question, history or [], lang)
        t_retrieve = time.perf_counter()
        hits = relevant_hits(self.search(query, self.options.k), self.options.min_dense_score)
        blocks = _context_blocks(hits, self.options.context_chars)
        retrieve_ms = _ms(t_retrieve)
        if not blocks:
            text = prompts.NO_ANSWER[lang]
            yield "token", text
            yield "citations", []
            timings = {"retrieve_ms": retrieve_ms, "first_token_ms": 0.0, "generate_ms": 0.0, "total_ms": _ms(start)}
            yield "answer", Answer(text, [], timings, self.model_name, query, found=False)
            return
        messages = prompts.answer_messages(question if query == question else query, _for_prompt(blocks), lang,
                                           override_dir=self.options.prompts_dir)
        t_generate = time.perf_counter()
        first_token_ms, parts = None, []
        for text in self._generate(messages):
            if first_token_ms is None:
                first_token_ms = _ms(start)
            parts.append(text)
            yield "token", text
        answer = tidy_answer("".join(parts), blocks)
        citations = _citations(answer, blocks)
        yield "citations", citations
        timings = {"retrieve_ms": retrieve_ms, "first_token_ms": first_token_ms or _ms(start),
                   "generate_ms": _ms(t_generate), "total_ms": _ms(start)}
        yield "answer", Answer(answer, citations, timings, self.model_name, query)

    def _condense(self, question: str, history: list[dict], lang: str) -> str:
        if not history or not self.options.condense_history:
            return question
        messages = prompts.condense_messages(history[-6:], question, lang, override_dir=self.options.prompts_dir)
        rewritten = "".join(self._generate(messages)).strip().split("\n")[0].strip()
        return rewritten or question

    def _generate(self, messages) -> Iterator[str]:
        try:
            for chunk in self.chat_model.stream(messages):
                if chunk.content:
                    yield chunk.content if isinstance(chunk.content, str) else str(chunk.content)
        except Exception as exc:
            if self.explain_error is None:
                raise
            raise self.explain_error(exc) from exc


def relevant_hits(hits: list[Hit], min_dense_score: float) -> list[Hit]:
    """Nothing is relevant when no dense match clears the bar (keyword-only results count when dense is off)."""
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    if dense and max(dense) < min_dense_score:
        return []
    if not dense and not any(h.keyword_score for h in hits):
        return []
    return hits


def _context_blocks(hits: list[Hit], budget: int) -> list[dict]:
    blocks, used = [], 0
    for hit in hits:
        text = hit.text if not blocks or used + len(hit.text) <= budget else ""
        if not text:
            break
        if len(text) > budget:  # the single best hit is longer than the budget: keep its head
            text = text[:budget]
        used += len(text)
        blocks.append({"n": len(blocks) + 1, "source": hit.source, "page": hit.page, "text": text,
                       "score": hit.score, "doc_id": hit.doc_id})
    return blocks


_HEADING_MARKS = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def _for_prompt(blocks: list[dict]) -> list[dict]:
    """Markdown heading marks make small models echo headings in a loop; the words stay."""
    return [{**b, "text": _HEADING_MARKS.sub("", b["text"])} for b in blocks]


_COPIED_PREFIX = re.compile(r"^\s*\[(\d{1,2})\]\s*\([^)]*\)\s*")


def tidy_answer(text: str, blocks: list[dict]) -> str:
    """Small models copy a context line's "[n] (file, p.3)" prefix: move the marker to the end;
    drop markers that point at no source given to the model."""
    valid = {b["n"] for b in blocks}
    text = text.strip()
    copied = _COPIED_PREFIX.match(text)
    if copied:
        text = text[copied.end():].rstrip() + f" [{copied.group(1)}]"
    text = _MARKER.sub(lambda m: m.group(0) if int(m.group(1)) in valid else "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _citations(answer: str, blocks: list[dict]) -> list[Citation]:
    """The sources given to the model; when the answer cites [n], only those it cited."""
    cited = {int(m) for m in _MARKER.findall(answer)} & {b["n"] for b in blocks}
    chosen = [b for b in blocks if b["n"] in cited] if cited else blocks
    return [Citation(b["n"], b["source"], b["page"], b["text"], round(float(b["score"]), 6), b["doc_id"])
            for b in chosen]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
