"""The answer chain: (history +) question -> condensed query -> retrieval -> prompt -> LLM -> cited
answer."""

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

import prompts
from answering.answer_check import AnswerCheck, cited_source
from answering.before_model import sources_or_refusal
from answering.context import best_dense, citations_of, for_prompt
from answering.events import Answer, AnswerEvent, Done, Reading, Sources, Token
from answering.fragments import FragmentRetry, retry_question
from answering.model_stream import model_pieces
from answering.repetition import RepetitionGuard
from answering.span_confidence import SpanConfidence
from answering.tidy import StreamTidier, headings_of, is_refusal
from retrieval import Hit


@dataclass
class ChainOptions:
    k: int = 5
    min_dense_score: float = 0.84
    min_cross_lingual_score: float | None = 0.76  # None: one bar for every pair of languages
    context_tokens: int = 3000  # sources budget in tokens (answering.context.context_blocks)
    prompts_dir: str | None = None
    condense_history: bool = True
    history_turns: int = 6  # messages of history given to the condenser
    # English questions over English passages: e5 similarities of answerable ones run lower than
    # Chinese ones (None: ``min_dense_score`` for every language)
    min_dense_score_en: float | None = None
    # The model's probability of starting the refusal sentence: refuse at or above this (None: never
    # on it alone); ``ban_refusal_start``: below it, the model may not start the refusal
    refusal_threshold: float | None = None
    ban_refusal_start: bool = False
    # The best similarity between the question and one sentence of the sources in its language
    # (retrieval.SentenceSupport): refuse below it, a near miss (None: not read)
    min_sentence_score: float | None = None
    min_sentence_score_en: float | None = None  # English questions (None: min_sentence_score)
    # The mean log-probability of the answer's first clause, its words not the question's
    # (answering.span_confidence; models that report it): refuse below it (None: only read)
    min_span_logprob: float | None = None
    # Asked after a short answer whether a source states it, the model's P(yes) (models that
    # report it; answering.answer_check): refuse below it (None: not asked)
    min_answer_check: float | None = None
    min_answer_check_en: float | None = None  # English questions (None: min_answer_check)


@dataclass
class AnswerChain:
    """``stream`` yields Reading (before the model reads the sources), Token..., Sources, Done.
    The tokens joined are exactly ``Done.answer.answer``."""

    search: Callable[[str, int], list[Hit]]
    chat_model: BaseChatModel
    model_name: str
    options: ChainOptions = field(default_factory=ChainOptions)
    explain_error: Callable[[BaseException], Exception] | None = None
    # (question, passages) -> names the question asks about that no passage contains
    # (retrieval.NameCheck)
    missing_names: Callable[[str, list[str]], list[str]] | None = None
    # (question, passages) -> the best similarity of one of their sentences to the question
    sentence_score: Callable[[str, list[str]], float | None] | None = None
    # text -> the tokens it costs the model (its own tokenizer; None: the estimate alone)
    count_tokens: Callable[[str], int] | None = None

    def invoke(
        self, question: str, history: list[dict] | None = None, instructions: str | None = None
    ) -> Answer:
        for event in self.stream(question, history, instructions):
            if isinstance(event, Done):
                return event.answer
        # stream always ends with Done
        raise RuntimeError("the answer stream ended without an answer")

    def stream(
        self, question: str, history: list[dict] | None = None, instructions: str | None = None
    ) -> Iterator[AnswerEvent]:
        """``instructions``: a caller's own system message, given to the model after the rules."""
        start = time.perf_counter()
        usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        lang = prompts.detect_language(question)
        query = self._condense(question, history or [], lang, usage)
        t_retrieve = time.perf_counter()
        found = self.search(query, self.options.k)
        signals: dict[str, Any] = {"best_dense_score": best_dense(found)}
        blocks, refused_by = sources_or_refusal(
            found,
            query,
            lang,
            self.options,
            signals,
            self.missing_names,
            self.sentence_score,
            self.count_tokens,
        )
        retrieve_ms = _ms(t_retrieve)
        if refused_by:
            text = prompts.NO_ANSWER[lang]
            yield Token(text)
            yield Sources([])
            timings = {
                "retrieve_ms": retrieve_ms,
                "first_token_ms": _ms(start),
                "generate_ms": 0.0,
                "total_ms": _ms(start),
            }
            yield Done(
                Answer(
                    text,
                    [],
                    timings,
                    self.model_name,
                    query,
                    found=False,
                    usage=usage,
                    refused_by=refused_by,
                    signals=signals,
                )
            )
            return
        yield Reading(len(blocks))
        t_generate = time.perf_counter()
        first_token_ms: float | None = None
        parts: list[str] = []
        tidier = StreamTidier({b["n"] for b in blocks}, headings_of(blocks))
        guards: list[RepetitionGuard] = []
        # A fragment ("[1]", a name's first character) is asked again with the sources in reverse
        # order; the refusal gate reads the first attempt only.
        retry = FragmentRetry(
            query,
            again=lambda fragment: self._attempt(
                retry_question(query, fragment, lang),
                blocks[::-1],
                lang,
                instructions,
                usage,
                guards,
            ),
            no_answer=prompts.NO_ANSWER[lang],
        )
        span = SpanConfidence(query, self.options.min_span_logprob, prompts.NO_ANSWER[lang])
        gate = self._gate_request(lang)
        check = AnswerCheck(
            self._checker(query, blocks, lang),
            self._check_bar(lang),
            prompts.NO_ANSWER[lang],
        )
        first = self._attempt(query, blocks, lang, instructions, usage, guards, signals, gate, span)
        answer_pieces = check.stream(retry.stream(first))
        pieces: Iterator[str | None] = itertools.chain(answer_pieces, [None])  # None: the end
        for piece in pieces:
            shown = tidier.feed(piece) if piece is not None else tidier.finish()
            if shown:
                first_token_ms = first_token_ms or _ms(start)
                parts.append(shown)
                yield Token(shown)
        answer = "".join(parts)
        refused = is_refusal(answer)
        citations = [] if refused else citations_of(answer, blocks)
        yield Sources(citations)
        timings = {
            "retrieve_ms": retrieve_ms,
            "first_token_ms": first_token_ms or _ms(start),
            "generate_ms": _ms(t_generate),
            "total_ms": _ms(start),
        }
        probability = signals.get("refusal_probability")
        signals["no_answer_twice"] = retry.gave_up
        signals["span_logprob"] = span.score
        signals["answer_check"] = None if check.probability is None else round(check.probability, 4)
        signals["answer_check_ms"] = check.check_ms
        refused_by = ("check" if check.refused else _refused_by(signals, span)) if refused else None
        yield Done(
            Answer(
                answer,
                citations,
                timings,
                self.model_name,
                query,
                found=not refused,
                usage=usage,
                fragments=retry.fragments,
                repetition_cut=any(g.stopped for g in guards),
                confidence=None if probability is None else round(1 - probability, 4),
                refused_by=refused_by,
                signals=signals,
            )
        )

    def _attempt(
        self,
        query: str,
        blocks: list[dict],
        lang: str,
        instructions: str | None,
        usage: dict,
        guards: list,
        signals: dict | None = None,
        extra: dict | None = None,
        span: SpanConfidence | None = None,
    ) -> Iterator[str]:
        """One answer from the model, cut where it starts repeating itself (its guard added to
        ``guards``); with ``span``, its first clause's confidence is read (and acted on)."""
        messages = self._answer_messages(query, blocks, lang, instructions)
        guards.append(RepetitionGuard())
        if span is None or not getattr(self.chat_model, "reads_token_logprobs", False):
            return guards[-1].stream(self._generate(messages, usage, signals, extra))
        scored = {**(extra or {}), "token_logprobs": True}
        pieces = self._generate(messages, usage, signals, scored, span.pairs)
        return guards[-1].stream(span.stream(pieces))

    def _answer_messages(self, query: str, blocks: list[dict], lang: str, instructions: str | None):
        return prompts.answer_messages(
            query,
            for_prompt(blocks),
            lang,
            override_dir=self.options.prompts_dir,
            instructions=instructions,
        )

    def _check_bar(self, lang: str) -> float | None:
        english = self.options.min_answer_check_en if lang == "en" else None
        return english if english is not None else self.options.min_answer_check

    def _checker(self, query: str, blocks: list[dict], lang: str) -> Callable | None:
        """answer -> the model's P(yes) to "does the source this answer cites state it?"; None
        for a model that cannot say (nothing is held back for it)."""
        read = getattr(self.chat_model, "yes_probability", None)
        if read is None:
            return None

        def check(answer: str) -> float | None:
            source, bare = cited_source(answer, blocks)
            return read(
                prompts.answer_check_messages(query, source, bare, lang, self.options.prompts_dir)
            )

        return check

    def _gate_request(self, lang: str) -> dict:
        """The ``stream`` keywords that ask the model for its refusal probability (and apply the
        threshold and the ban), for chat models that offer it (llm_backends.LocalChatModel)."""
        if not getattr(self.chat_model, "reads_refusal_probability", False):
            return {}
        return {
            "refusal_gate": {
                "text": prompts.NO_ANSWER[lang],
                "threshold": self.options.refusal_threshold,
                "ban": self.options.ban_refusal_start,
            }
        }

    def _condense(self, question: str, history: list[dict], lang: str, usage: dict) -> str:
        if not history or not self.options.condense_history:
            return question
        turns = history[-self.options.history_turns :]
        messages = prompts.condense_messages(
            turns, question, lang, override_dir=self.options.prompts_dir
        )
        # beside the answer prompt's cache, where the model offers a second context
        side = getattr(self.chat_model, "has_side_context", False)
        written = "".join(
            self._generate(messages, usage, extra={"side_context": True} if side else None)
        )
        return written.strip().split("\n")[0].strip() or question

    def _generate(self, messages, usage: dict, signals=None, extra=None, logprobs=None):
        return model_pieces(
            self.chat_model, messages, usage, self.explain_error, signals, extra, logprobs
        )


def _refused_by(signals: dict, span: SpanConfidence) -> str:
    if signals.pop("refused_by_gate", False):
        return "gate"
    return "confidence" if span.refused else "model"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
