"""The answer chain: (history +) question -> condensed query -> retrieval -> prompt -> LLM -> cited
answer."""

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

import prompts
from answering.context import citations_of, context_blocks, for_prompt
from answering.events import Answer, AnswerEvent, Done, Reading, Sources, Token
from answering.fragments import FragmentRetry, retry_question
from answering.model_stream import model_pieces
from answering.options import ChainOptions
from answering.refusal import Evidence, decide, is_relevant, is_weak
from answering.repetition import RepetitionGuard
from answering.span_confidence import SpanConfidence
from answering.tidy import StreamTidier, headings_of, is_refusal
from retrieval import Hit


@dataclass
class AnswerChain:
    """``stream`` yields Reading (before the model reads the sources), Token..., Sources, Done.
    The tokens joined are exactly ``Done.answer.answer``. Who refuses is decided in one place,
    ``answering.refusal.decide``, from the ``Evidence`` read along the way."""

    search: Callable[[str, int], list[Hit]]
    chat_model: BaseChatModel
    model_name: str
    options: ChainOptions = field(default_factory=ChainOptions)
    explain_error: Callable[[BaseException], Exception] | None = None
    # (question, passages) -> names the question asks about that no passage contains
    # (retrieval.NameCheck)
    missing_names: Callable[[str, list[str]], list[str]] | None = None
    # text -> the tokens it costs the model (its own tokenizer; None: the estimate alone)
    count_tokens: Callable[[str], int] | None = None
    # (question, language) -> the events of an answer from the documents' structure, or None: the
    # question is not about an outline, a chapter or the whole document (answering/structure_answer)
    structure: Callable[[str, str], Iterator[AnswerEvent] | None] | None = None

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
        routed = self.structure(query, lang) if self.structure is not None else None
        if routed is not None:
            yield from routed
            return
        t_retrieve = time.perf_counter()
        found = self.search(query, self.options.k)
        evidence, blocks = self._read_passages(found, query, lang)
        refused_by = decide(evidence, self.options.refusal)
        retrieve_ms = _ms(t_retrieve)
        if refused_by:
            yield from self._refuse(refused_by, evidence, query, lang, usage, start, retrieve_ms)
            return
        yield Reading(len(blocks))
        t_generate = time.perf_counter()
        first_token_ms: float | None = None
        parts: list[str] = []
        tidier = StreamTidier({b["n"] for b in blocks}, headings_of(blocks))
        guards: list[RepetitionGuard] = []
        # A fragment ("[1]", a name's first character) is asked again with the sources in reverse
        # order; the refusal probability is read on the first attempt only.
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
        span = SpanConfidence(query)
        first = self._attempt(
            query,
            blocks,
            lang,
            instructions,
            usage,
            guards,
            evidence,
            self._probability_request(lang),
            span,
        )
        pieces: Iterator[str | None] = itertools.chain(retry.stream(first), [None])  # None: the end
        for piece in pieces:
            shown = tidier.feed(piece) if piece is not None else tidier.finish()
            if shown:
                first_token_ms = first_token_ms or _ms(start)
                parts.append(shown)
                yield Token(shown)
        answer = "".join(parts)
        evidence.model_refused = is_refusal(answer)
        evidence.no_answer_twice = retry.gave_up
        evidence.span_logprob = span.score
        refused_by = decide(evidence, self.options.refusal)
        citations = [] if refused_by else citations_of(answer, blocks)
        yield Sources(citations)
        timings = {
            "retrieve_ms": retrieve_ms,
            "first_token_ms": first_token_ms or _ms(start),
            "generate_ms": _ms(t_generate),
            "total_ms": _ms(start),
        }
        probability = evidence.refusal_probability
        yield Done(
            Answer(
                answer,
                citations,
                timings,
                self.model_name,
                query,
                found=refused_by is None,
                usage=usage,
                fragments=retry.fragments,
                repetition_cut=any(g.stopped for g in guards),
                confidence=None if probability is None else round(1 - probability, 4),
                refused_by=refused_by,
                signals=self._signals(evidence),
                cut_at_length=evidence.cut_at_length and not refused_by,
                weak_evidence=not refused_by and is_weak(evidence, self.options.refusal),
            )
        )

    def _signals(self, evidence: Evidence) -> dict:
        """The evidence read, with the relevance bar it was held to (bench.answers.notice)."""
        out = evidence.signals()
        if evidence.best_dense_score is not None:
            bar = self.options.refusal.relevance_bar(
                evidence.question_lang, evidence.best_dense_lang
            )
            out["relevance_bar"] = bar
        return out

    def _read_passages(
        self, found: list[Hit], query: str, lang: str
    ) -> tuple[Evidence, list[dict]]:
        """What is read before the model runs, and the source blocks it would read (none when
        nothing is relevant); the name check reads those blocks."""
        evidence = Evidence.of_hits(found, lang)
        config = self.options.refusal
        if not is_relevant(evidence, config):
            return evidence, []
        blocks = context_blocks(found, self.options.context_tokens, self.count_tokens)
        if config.check_names and self.missing_names:
            evidence.missing_names = self.missing_names(query, [b["text"] for b in blocks])
        return evidence, blocks

    def _refuse(
        self,
        refused_by: str,
        evidence: Evidence,
        query: str,
        lang: str,
        usage: dict,
        start: float,
        retrieve_ms: float,
    ) -> Iterator[AnswerEvent]:
        """The refusal before the model: no generation."""
        text = prompts.NO_ANSWER[lang]
        yield Token(text)
        yield Sources([])
        timings = {
            "retrieve_ms": retrieve_ms,
            "first_token_ms": _ms(start),
            "generate_ms": 0.0,
            "total_ms": _ms(start),
        }
        answer = Answer(
            text,
            [],
            timings,
            self.model_name,
            query,
            found=False,
            usage=usage,
            refused_by=refused_by,
            signals=evidence.signals(),
        )
        yield Done(answer)

    def _attempt(
        self,
        query: str,
        blocks: list[dict],
        lang: str,
        instructions: str | None,
        usage: dict,
        guards: list,
        evidence: Evidence | None = None,
        extra: dict | None = None,
        span: SpanConfidence | None = None,
    ) -> Iterator[str]:
        """One answer from the model, cut where it starts repeating itself (its guard added to
        ``guards``); with ``span``, its first clause's confidence is read."""
        messages = self._answer_messages(query, blocks, lang, instructions)
        guards.append(RepetitionGuard())
        if span is None or not getattr(self.chat_model, "reads_token_logprobs", False):
            return guards[-1].stream(self._generate(messages, usage, evidence, extra))
        scored = {**(extra or {}), "token_logprobs": True}
        pieces = self._generate(messages, usage, evidence, scored, span.pairs)
        return guards[-1].stream(span.stream(pieces))

    def _answer_messages(self, query: str, blocks: list[dict], lang: str, instructions: str | None):
        sources_lang = None
        if self.options.cross_language_hint and blocks:
            sources_lang = prompts.detect_language(" ".join(b["text"] for b in blocks))
        return prompts.answer_messages(
            query,
            for_prompt(blocks),
            lang,
            override_dir=self.options.prompts_dir,
            instructions=instructions,
            sources_lang=sources_lang,
        )

    def _probability_request(self, lang: str) -> dict:
        """The ``stream`` keyword that asks the model for its probability of starting the refusal
        sentence (recorded as evidence), for chat models that offer it (LocalChatModel)."""
        if not getattr(self.chat_model, "reads_refusal_probability", False):
            return {}
        return {"refusal_probability_of": prompts.NO_ANSWER[lang]}

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

    def _generate(self, messages, usage: dict, evidence=None, extra=None, logprobs=None):
        return model_pieces(
            self.chat_model, messages, usage, self.explain_error, evidence, extra, logprobs
        )


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
