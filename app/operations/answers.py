"""Answers: a question over a knowledge base -> typed events (Reading, Token, Sources, Done,
Failed).

Every front door asks through here: the REST API (JSON and SSE), the OpenAI-compatible route, the
web UI and `kb ask`. What a user sees on failure is ``Failed.message``: one sentence, never a trace.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from answering import (
    Answer,
    AnswerChain,
    AnswerEvent,
    ChainOptions,
    DocumentOutline,
    Done,
    Failed,
    StructureAnswerer,
)
from app.operations.errors import user_message
from app.operations.lane import AnswerLane, TurnStream
from app.operations.search import SearchService, check_length
from app.services import Services

log = logging.getLogger("kb.answers")


@dataclass(frozen=True)
class AskOptions:
    kb: str
    provider: str | None = None
    model: str | None = None
    temperature: float | None = None
    k: int | None = None
    max_tokens: int | None = None
    doc_ids: tuple[str, ...] | None = None
    # the caller's own system message (after the knowledge-base rules)
    instructions: str | None = None


class AnswerService:
    def __init__(self, services: Services, search: SearchService, answer_log=None):
        """``answer_log``: where each answer is remembered under its ``answer_id`` for ratings
        (``app.operations.feedback.AnswerLog``; None: not remembered)."""
        self.services = services
        self.searcher = search
        self.answer_log = answer_log
        # the local model answers one question at a time; the others wait their turn here
        self.lane = AnswerLane(services.settings.max_waiting)

    def ask(self, question: str, history: list[dict], options: AskOptions) -> Answer:
        """The finished answer, after this question's turn (a local model). Raises
        (``llm_backends.LLMBackendError`` when the model failed, ``Busy`` when too many wait)."""
        chain = self.chain(options, question)
        lane = self._lane_for(options)
        ticket = lane.join() if lane else None
        try:
            if lane and ticket:
                lane.wait_turn(ticket, timeout_s=None)
            return self._remembered(chain.invoke(question, history, options.instructions), options)
        finally:
            if lane and ticket:
                lane.leave(ticket)

    def stream(self, question: str, history: list[dict], options: AskOptions) -> TurnStream:
        """Checks the request now (raising for a bad one: unknown knowledge base, too long a
        question, ``Busy`` when too many wait), then returns the events: ``Queued`` while the
        question waits its turn, then the answer's; a failure while answering ends them with
        ``Failed``. A front door whose client leaves calls ``cancel()`` on them."""
        chain = self.chain(options, question)
        return TurnStream(
            self._lane_for(options),
            lambda: self._events(chain, question, history, options),
        )

    def _remembered(self, answer: Answer, options: AskOptions) -> Answer:
        """``answer`` with its ``answer_id``, remembered for a rating. A log that cannot be
        written (the queue's database away) costs the rating, never the answer."""
        from app.operations.feedback import new_answer_id

        answer.answer_id = new_answer_id()
        self._mark_support(answer)
        if self.answer_log is None:
            return answer
        s = self.services.settings
        config = {
            "model": answer.model,
            "k": options.k or s.search_k,
            "search_mode": s.search_mode,
            "embedding": f"{s.embedding}:{s.embedding_model or ''}",
            "doc_ids": list(options.doc_ids or []),
            "temperature": options.temperature,
            "refused_by": answer.refused_by,
        }
        try:
            self.answer_log.remember(answer.answer_id, options.kb, answer, config)
        except Exception:  # noqa: BLE001
            log.warning(
                "answer %s could not be remembered for ratings", answer.answer_id, exc_info=True
            )
        return answer

    def length_cap(self, provider: str | None = None, model: str | None = None) -> int:
        """The answer's length cap in tokens (``KB_LLM_MAX_TOKENS`` or the model's own)."""
        return self.services.llm_config(provider, model).max_tokens

    def _lane_for(self, options: AskOptions) -> AnswerLane | None:
        """The lane for a local model; a remote provider (vLLM included) batches on its own."""
        config = self.services.llm_config(options.provider, options.model)
        return self.lane if config.provider == "local" else None

    def chain(self, options: AskOptions, question: str = "") -> AnswerChain:
        from llm_backends import describe, explain_error, model_profile

        s = self.services.settings
        check_length(question, s.max_question_chars)
        check_length(options.instructions or "", s.max_question_chars, "system message")
        kb = self.services.store.get(options.kb)  # KBNotFound before any model is loaded
        chat_model, config = self.services.chat_model(
            options.provider, options.model, options.temperature, options.max_tokens
        )
        profile = model_profile(config)
        chain_options = ChainOptions(
            k=options.k or s.search_k,
            refusal=s.refusal_config(),
            context_tokens=s.context_tokens or profile.context_tokens,
            prompts_dir=s.prompts_dir,
            condense_history=profile.condense_history,
            cross_language_hint=s.cross_language_hint,
        )
        info = describe(config)
        doc_ids = list(options.doc_ids) if options.doc_ids else None
        search = lambda query, k: self._passages(options.kb, query, k, doc_ids)  # noqa: E731
        structure = None
        if s.structure_questions:
            structure = StructureAnswerer(
                outlines=lambda: document_outlines(kb, doc_ids),
                search=search,
                chat_model=chat_model,
                model_name=f"{info['provider']}:{info['model']}",
                explain_error=lambda exc: explain_error(exc, config),
                prompts_dir=s.prompts_dir,
            ).route
        return AnswerChain(
            search=search,
            chat_model=chat_model,
            model_name=f"{info['provider']}:{info['model']}",
            options=chain_options,
            explain_error=lambda exc: explain_error(exc, config),
            missing_names=self._missing_names(kb) if s.check_names else None,
            # the local model's own tokenizer (a remote one's may need a download)
            count_tokens=chat_model.get_num_tokens if config.provider == "local" else None,
            structure=structure,
        )

    def gate_signals(self, kb_name: str, question: str, k: int | None = None) -> dict:
        """What the refusal decision reads before any model runs, for a question asked with no
        history: the best dense score of the passages found and the names missing from them (None:
        the name check is off). bench.answers.fit_bars fits the bars on these."""
        from answering import best_dense

        s = self.services.settings
        found = self._passages(kb_name, question, k or s.search_k, None)
        missing = None
        if s.check_names and found:
            kb = self.services.store.get(kb_name)
            missing = self._missing_names(kb)(question, [h.text for h in found])
        return {"best_dense_score": best_dense(found), "missing_names": missing}

    def _missing_names(self, kb):
        """The name check against this knowledge base: a name it holds nowhere, passages
        included."""
        check = self.services.name_check
        return lambda question, passages: check.missing(question, passages, known=kb.mentions)

    def _passages(self, kb_name: str, query: str, k: int, doc_ids: list[str] | None) -> list:
        """The hits, each widened with its neighbours (page neighbours for a PDF): small chunks
        match, the model reads the sentences around them, none cut at a chunk boundary."""
        from retrieval import widen_hits

        hits = self.searcher.search(kb_name, query, k, doc_ids=doc_ids)
        return widen_hits(
            self.services.store.get(kb_name), hits, self.services.settings.answer_passage_chars
        )

    def _mark_support(self, answer: Answer) -> None:
        """Each cited passage's sentence closest to the answer (``Citation.support``), for a
        person to check the answer against: one embedding call over the cited sentences."""
        from retrieval.support import SentenceSupport

        if not answer.citations or not answer.answer.strip() or answer.refused_by:
            return
        try:
            found = SentenceSupport(self.services.embeddings).best_sentences(
                answer.answer, [c.text for c in answer.citations]
            )
        except Exception:  # noqa: BLE001  the marks are a help, never a reason to fail an answer
            log.warning("supporting sentences not found", exc_info=True)
            return
        for citation, sentence in zip(answer.citations, found, strict=True):
            citation.support = sentence or ""

    def _events(
        self, chain: AnswerChain, question: str, history: list[dict], options: AskOptions
    ) -> Iterator[AnswerEvent]:
        try:
            for event in chain.stream(question, history, options.instructions):
                if isinstance(event, Done):
                    self._remembered(event.answer, options)
                yield event
        except Exception as exc:  # noqa: BLE001  never a broken stream without a word
            yield Failed(user_message(exc))

    # --- the model's state ---------------------------------------------------------------------
    def model_status(self) -> dict:
        """Provider, model and whether it can answer now (a local model has finished loading)."""
        from llm_backends import describe

        info = describe(self.services.llm_config())
        engine = self.services.default_local_engine()
        state = engine.state if engine is not None else "remote"
        return {
            "provider": info["provider"],
            "model": info["model"],
            "ready": state in ("ready", "remote"),
            "state": state,
        }

    def preload(self) -> None:
        """Start loading the default model in the background where its profile says so (a local
        model), so the first question does not wait for it."""
        from llm_backends import model_profile

        if not self.services.settings.preload_model:
            return
        config = self.services.llm_config()
        if model_profile(config).preload and config.provider == "local":
            engine = self.services.local_engine(config)
            log.info("loading local model %s in the background", engine.name)
            engine.start_loading()

    def warm_up(self, provider: str | None = None, model: str | None = None) -> None:
        """Load the model now (untimed, before a measured run)."""
        from llm_backends import warm_up

        chat_model, config = self.services.chat_model(provider, model)
        warm_up(chat_model, config)


def document_outlines(kb, doc_ids: list[str] | None) -> list[DocumentOutline]:
    """The outlines of the knowledge base's indexed documents (those chosen, when some are)."""
    records = [r for r in kb.documents() if r.status == "indexed"]
    return [
        DocumentOutline(r.doc_id, r.source, r.pages, kb.outline(r.doc_id))
        for r in records
        if not doc_ids or r.doc_id in doc_ids
    ]
