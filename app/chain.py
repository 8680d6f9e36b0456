"""The answer chain: (history +) question -> condensed query -> retrieval -> prompt -> LLM -> cited answer."""

import itertools
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
    found: bool = True  # False: nothing relevant was found, or the model said the sources lack the answer
    usage: dict = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0})

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ChainOptions:
    k: int = 5
    min_dense_score: float = 0.84
    min_cross_lingual_score: float | None = 0.76  # None: one bar for every pair of languages
    context_tokens: int = 3000  # sources budget, estimated tokens (prompts.estimate_tokens)
    prompts_dir: str | None = None
    condense_history: bool = True
    history_turns: int = 6  # messages of history given to the condenser


@dataclass
class AnswerChain:
    """Events from ``stream``: ("reading", n sources) before the model reads them, ("token", text)...,
    ("citations", [Citation]), ("answer", Answer). The tokens joined are exactly ``Answer.answer``."""

    search: Callable[[str, int], list[Hit]]
    chat_model: BaseChatModel
    model_name: str
    options: ChainOptions = field(default_factory=ChainOptions)
    explain_error: Callable[[BaseException], Exception] | None = None
    # (question, passages) -> names the question asks about that no passage contains (retrieval.NameCheck)
    missing_names: Callable[[str, list[str]], list[str]] | None = None

    def invoke(self, question: str, history: list[dict] | None = None) -> Answer:
        answer = None
        for kind, payload in self.stream(question, history):
            if kind == "answer":
                answer = payload
        return answer

    def stream(self, question: str, history: list[dict] | None = None) -> Iterator[tuple[str, object]]:
        start = time.perf_counter()
        usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        lang = prompts.detect_language(question)
        query = self._condense(question, history or [], lang, usage)
        t_retrieve = time.perf_counter()
        hits = relevant_hits(self.search(query, self.options.k), self.options.min_dense_score,
                             self.options.min_cross_lingual_score, lang)
        blocks = _context_blocks(hits, self.options.context_tokens)
        if blocks and self.missing_names and self.missing_names(query, [b["text"] for b in blocks]):
            blocks = []  # the passages are about something else: refuse rather than let the model guess
        retrieve_ms = _ms(t_retrieve)
        if not blocks:
            text = prompts.NO_ANSWER[lang]
            yield "token", text
            yield "citations", []
            timings = {"retrieve_ms": retrieve_ms, "first_token_ms": _ms(start), "generate_ms": 0.0,
                       "total_ms": _ms(start)}
            yield "answer", Answer(text, [], timings, self.model_name, query, found=False, usage=usage)
            return
        yield "reading", len(blocks)
        messages = prompts.answer_messages(query, _for_prompt(blocks), lang, override_dir=self.options.prompts_dir)
        t_generate = time.perf_counter()
        first_token_ms, parts = None, []
        tidier = StreamTidier({b["n"] for b in blocks})
        for text in itertools.chain(self._generate(messages, usage), [None]):  # None: the end
            shown = tidier.feed(text) if text is not None else tidier.finish()
            if shown:
                first_token_ms = first_token_ms or _ms(start)
                parts.append(shown)
                yield "token", shown
        answer = "".join(parts)
        refused = is_refusal(answer)
        citations = [] if refused else _citations(answer, blocks)
        yield "citations", citations
        timings = {"retrieve_ms": retrieve_ms, "first_token_ms": first_token_ms or _ms(start),
                   "generate_ms": _ms(t_generate), "total_ms": _ms(start)}
        yield "answer", Answer(answer, citations, timings, self.model_name, query, found=not refused, usage=usage)

    def _condense(self, question: str, history: list[dict], lang: str, usage: dict) -> str:
        if not history or not self.options.condense_history:
            return question
        turns = history[-self.options.history_turns:]
        messages = prompts.condense_messages(turns, question, lang, override_dir=self.options.prompts_dir)
        rewritten = "".join(self._generate(messages, usage)).strip().split("\n")[0].strip()
        return rewritten or question

    def _generate(self, messages, usage: dict) -> Iterator[str]:
        try:
            for chunk in self.chat_model.stream(messages):
                for key, value in (getattr(chunk, "usage_metadata", None) or {}).items():
                    if key in usage and isinstance(value, int):
                        usage[key] += value
                if chunk.content:
                    yield chunk.content if isinstance(chunk.content, str) else str(chunk.content)
        except Exception as exc:
            if self.explain_error is None:
                raise
            raise self.explain_error(exc) from exc


def is_refusal(answer: str) -> bool:
    """The model answered with (a form of) the refusal sentence the prompt asks for."""
    text = answer.casefold()
    return any(sentence.rstrip("。.").casefold()[:36] in text for sentence in prompts.NO_ANSWER.values())


def relevant_hits(hits: list[Hit], min_dense_score: float, min_cross_lingual_score: float | None = None,
                  question_lang: str | None = None) -> list[Hit]:
    """Nothing is relevant when no dense match clears the bar (keyword-only results count when dense is off).

    Similarities between a question and a passage in the other language run lower (e5: answerable ones
    around 0.8), so a passage not in the question's language is held to ``min_cross_lingual_score``.
    """
    dense = [h for h in hits if h.dense_score is not None]
    if dense:
        best = max(dense, key=lambda h: h.dense_score)
        bar = min_dense_score
        if min_cross_lingual_score is not None and question_lang and prompts.detect_language(best.text) != question_lang:
            bar = min_cross_lingual_score
        if best.dense_score < bar:
            return []
    if not dense and not any(h.keyword_score for h in hits):
        return []
    return hits


def _context_blocks(hits: list[Hit], budget: int) -> list[dict]:
    """Hits, best first, while their estimated tokens fit the budget (the best one always, cut if need be)."""
    blocks, used = [], 0
    for hit in hits:
        text, cost = hit.text, prompts.estimate_tokens(hit.text)
        if blocks and used + cost > budget:
            break
        while cost > budget:  # the best hit alone is over budget: keep its head
            text = text[: int(len(text) * 0.8)]
            cost = prompts.estimate_tokens(text)
        used += cost
        blocks.append({"n": len(blocks) + 1, "source": hit.source, "page": hit.page, "text": text,
                       "score": hit.score, "doc_id": hit.doc_id})
    return blocks


_HEADING_MARKS = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def _for_prompt(blocks: list[dict]) -> list[dict]:
    """Markdown heading marks make small models echo headings in a loop; the words stay."""
    return [{**b, "text": _HEADING_MARKS.sub("", b["text"])} for b in blocks]


_COPIED_PREFIX = re.compile(r"^\[(\d{1,2})\]\s*\([^)]*\)\s*")
_MAYBE_PREFIX = re.compile(r"\[\d{0,2}(\]\s*(\([^)]*)?)?")
# [1], [1, 2], [1][2] and the full-width 【1】 all count as markers.
_ANY_MARKER = re.compile(r"[\[【](\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)[\]】]")
_MAYBE_MARKER = re.compile(r"[\[【][\d\s,，、]{0,12}")


class StreamTidier:
    """Tidies an answer while it streams, so what is shown streaming is exactly the final text.

    Small models copy a source line's "[n] (file, p.3)" prefix (moved to the end as "[n]") and
    write markers that point at no given source (dropped); "[1, 2]" and "【1】" become "[1][2]"
    and "[1]". Text that could still turn into a marker is held back until it is decided, and
    so is trailing whitespace: the joined output is already stripped.
    """

    def __init__(self, valid: set[int]):
        self.valid, self.pending, self.started, self.moved = valid, "", False, None
        self.cited: set[int] = set()

    def feed(self, text: str) -> str:
        self.pending += text
        return self._drain(final=False)

    def finish(self) -> str:
        out = self._drain(final=True).rstrip()
        self.pending = ""
        if self.moved is not None and self.moved not in self.cited:
            out += f" [{self.moved}]"
        return out

    def _drain(self, final: bool) -> str:
        if not self.started:
            self.pending = self.pending.lstrip()
            copied = _COPIED_PREFIX.match(self.pending)
            if copied and (final or copied.end() < len(self.pending)):
                if int(copied.group(1)) in self.valid:
                    self.moved = int(copied.group(1))
                self.pending = self.pending[copied.end():]
            elif not final and (not self.pending or _MAYBE_PREFIX.fullmatch(self.pending)):
                return ""
            self.started = True
        text, hold = self.pending, ""
        cut = max(text.rfind("["), text.rfind("【"))
        if not final and cut >= 0 and _MAYBE_MARKER.fullmatch(text[cut:]):
            text, hold = text[:cut], text[cut:]
        if not final:
            stripped = text.rstrip()
            text, hold = stripped, text[len(stripped):] + hold
        self.pending = hold
        return _ANY_MARKER.sub(self._marker, text)

    def _marker(self, match: re.Match) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        self.cited.update(n for n in numbers if n in self.valid)
        return "".join(f"[{n}]" for n in numbers if n in self.valid)


def tidy_answer(text: str, blocks: list[dict]) -> str:
    """The whole-text form of :class:`StreamTidier` (same rules, same result)."""
    tidier = StreamTidier({b["n"] for b in blocks})
    return (tidier.feed(text) + tidier.finish()).strip()


def _citations(answer: str, blocks: list[dict]) -> list[Citation]:
    """The sources given to the model; when the answer cites [n], only those it cited."""
    cited = {int(m) for m in _MARKER.findall(answer)} & {b["n"] for b in blocks}
    chosen = [b for b in blocks if b["n"] in cited] if cited else blocks
    return [Citation(b["n"], b["source"], b["page"], b["text"], round(float(b["score"]), 6), b["doc_id"])
            for b in chosen]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
