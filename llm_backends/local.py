"""The offline default's chat model: ``LocalChatModel`` over a shared ``LocalEngine``.

Rendering the prompt ourselves (see ``local_engine``) lets the adapter fit the sources into the
context window by tokens and report exact token usage, also when streaming.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field, PrivateAttr

from .errors import LLMBackendError
from .local_engine import _QUESTION_MARKERS, _ROLES, BASE_MODEL_STOP, LocalEngine, is_looping
from .refusal_probability import refusal_prefix, refusal_probability
from .token_logprobs import ChosenTokenLogprobs


class LocalChatModel(BaseChatModel):
    """LangChain chat model over a shared :class:`LocalEngine`.

    Temperature, max_tokens and stop are per call (``invoke(..., temperature=0.7)``) or per
    instance; instances are cheap, the weights live in the engine.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: LocalEngine | None = None  # None -> one of its own over model_path
    model_path: str | None = None
    model_name: str | None = None
    temperature: float = 0.1
    max_tokens: int = 512
    stop: list[str] | None = None
    seed: int = 0
    # Off: it also penalises copying facts from the sources, which extractive answers need.
    repeat_penalty: float = 1.0
    # A base model's answer is one line: it goes on to invent more "context" after it.
    single_line: bool | None = None  # None -> True for base models, False for chat models
    # accepted for interface parity; local generation has no network wait
    timeout: float | None = None
    max_retries: int = Field(default=0, description="unused: nothing to retry locally")

    _own_engine: Any = PrivateAttr(default=None)

    # The answer chain passes ``refusal_probability_of`` (the refusal sentence, see
    # llm_backends.refusal_probability) to chat models that say they read its probability.
    reads_refusal_probability: bool = True
    # ... and ``token_logprobs=True``: each piece carries its tokens' log-probabilities
    reads_token_logprobs: bool = True
    # ... and ``side_context=True`` for a step that must not evict the answer prompt's cache
    has_side_context: bool = True

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_name": self._model_name,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }

    @property
    def _model_name(self) -> str:
        return self.model_name or (
            self.engine.name if self.engine else Path(self.model_path or "local").name
        )

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="llamacpp",
            ls_model_name=kwargs.get("model") or self._model_name,
            ls_model_type="chat",
            ls_temperature=kwargs.get("temperature", self.temperature),
        )
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens:
            params["ls_max_tokens"] = max_tokens
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    def _engine(self) -> LocalEngine:
        if self.engine is not None:
            return self.engine
        if self._own_engine is None:
            if not self.model_path:
                raise LLMBackendError(
                    "LocalChatModel needs an engine or a model_path", provider="local"
                )
            self._own_engine = LocalEngine(model_path=self.model_path)
        return self._own_engine

    def get_token_ids(self, text: str) -> list[int]:
        """The model's own tokens for ``text`` (LangChain's default fetches GPT-2's tokenizer)."""
        llama = self._engine().load()
        return list(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # --- generation ----------------------------------------------------------------------------
    def _answer_parts(
        self, messages: list[BaseMessage], stop: list[str] | None, options: dict[str, Any]
    ) -> Iterator[tuple[str, str | None, UsageMetadata | None, dict]]:
        """(text, finish_reason, usage, metadata) pieces; usage only on the last, the refusal
        probability on the first. Call with the lock held."""
        from llama_cpp import LogitsProcessorList

        engine = self._engine()
        # side_context: a short step beside the answers (a follow-up rewritten) runs in the second
        # context, so the answer prompt's system part stays read in the first
        llama = engine.side_context() if options.get("side_context") else engine.load()
        max_tokens = int(options.get("max_tokens") or self.max_tokens)
        tokens, template_stop, criteria = self._fit(
            engine, [_as_dict(m) for m in messages], max_tokens, llama.n_ctx()
        )
        chat = engine.uses_chat_template
        single_line = (not chat) if self.single_line is None else self.single_line
        user_stop = [*(self.stop or []), *(stop or [])]
        base_stop = (
            [] if chat else [s for s in BASE_MODEL_STOP if not (single_line and s.startswith("\n"))]
        )
        refusal = options.get("refusal_probability_of")
        reading = self._read_refusal(llama, tokens, refusal) if refusal else {}
        # ``token_logprobs``: each piece carries the (token, log-probability) pairs chosen so far;
        # not with prompt-lookup drafts, where a step's input also holds the drafted tokens
        scored = options.get("token_logprobs") and engine.prompt_lookup_tokens <= 0
        recorder = ChosenTokenLogprobs(llama, len(tokens)) if scored else None
        processors = [recorder] if recorder else []
        stream = llama.create_completion(
            prompt=tokens,
            max_tokens=max(1, min(max_tokens, llama.n_ctx() - len(tokens) - 1)),
            temperature=float(options.get("temperature", self.temperature)),
            repeat_penalty=self.repeat_penalty,
            seed=self.seed,
            stop=[*template_stop, *base_stop, *user_stop] or None,
            stopping_criteria=criteria,
            logits_processor=LogitsProcessorList(processors) if processors else None,
            stream=True,
        )
        if reading:
            yield "", None, None, reading
        started, so_far, n_out, finish = False, "", 0, None
        try:
            for part in stream:
                choice = part["choices"][0]
                text, finish = choice.get("text") or "", choice.get("finish_reason")
                n_out += 1 if text else 0
                if not started:
                    text = text.lstrip()
                    started = bool(text)
                if started and single_line and "\n" in text:
                    text, finish = text[: text.index("\n")].rstrip(), "stop"
                so_far += text
                if is_looping(so_far):
                    finish = "stop"
                if finish:
                    break
                if text:
                    yield text, None, None, {"token_logprobs": recorder.take()} if recorder else {}
        finally:
            stream.close()  # stops llama.cpp generating when we end early
        usage = UsageMetadata(
            input_tokens=len(tokens), output_tokens=n_out, total_tokens=len(tokens) + n_out
        )
        yield text if finish else "", finish or "length", usage, {}

    @staticmethod
    def _read_refusal(llama: Any, tokens: list[int], refusal: str) -> dict:
        """{"refusal_probability": P(the answer starts with the refusal sentence ``refusal``)}."""
        prefix = refusal_prefix(llama, refusal)
        return {"refusal_probability": round(refusal_probability(llama, tokens, prefix), 4)}

    def _fit(
        self, engine: LocalEngine, messages: list[dict], max_tokens: int, n_ctx: int
    ) -> tuple[list[int], list[str], Any]:
        """Render; when the prompt would not leave room to answer in a context of ``n_ctx``
        tokens, cut the sources of the last user message from the end (they come best-first),
        keeping its question line whole."""
        budget = max(n_ctx - max_tokens, n_ctx // 2)
        tokens, stop, criteria = engine.render(messages)
        for _ in range(4):
            excess = len(tokens) - budget
            if excess <= 0:
                break
            last = max(i for i, m in enumerate(messages) if m["role"] != "assistant")
            messages = [
                *messages[:last],
                {**messages[last], "content": _cut(engine, messages[last]["content"], excess + 8)},
                *messages[last + 1 :],
            ]
            tokens, stop, criteria = engine.render(messages)
        if len(tokens) > budget:  # the question alone is too long: keep the prompt's end
            tokens = tokens[-budget:]
        return tokens, stop, criteria

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        engine = self._engine()
        with engine.lock:
            parts = list(self._answer_parts(messages, stop, kwargs))
        text = "".join(t for t, _, _, _ in parts).strip()
        finish, usage = parts[-1][1], parts[-1][2]
        reading = {k: v for part in parts for k, v in part[3].items()}
        message = AIMessage(
            content=text,
            usage_metadata=usage,
            response_metadata={
                "finish_reason": finish,
                "model_name": self._model_name,
                "model_provider": "llamacpp",
                **reading,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        engine = self._engine()
        # The lock is held while the caller iterates and released when the stream ends or is closed.
        with engine.lock:
            for text, finish, usage, reading in self._answer_parts(messages, stop, kwargs):
                metadata = (
                    {"finish_reason": finish, "model_name": self._model_name} if finish else {}
                )
                metadata.update(reading)
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(
                        content=text, usage_metadata=usage, response_metadata=metadata
                    )
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk


def _as_dict(message: BaseMessage) -> dict:
    return {"role": _ROLES.get(message.type, "user"), "content": message.text}


def _cut(engine: LocalEngine, content: str, n_tokens: int) -> str:
    """``content`` shortened by about ``n_tokens`` tokens from the end of its part before the
    question."""
    cut = max(content.rfind(m) for m in _QUESTION_MARKERS)
    head, tail = (content[:cut], content[cut:]) if cut > 0 else (content, "")
    llama = engine.load()
    head_tokens = llama.tokenize(head.encode("utf-8"), add_bos=False)
    keep = len(head_tokens) - n_tokens
    if keep <= 0:
        return tail.lstrip("\n") if tail else content[-max(1, len(content) // 2) :]
    kept = llama.detokenize(head_tokens[:keep]).decode("utf-8", errors="ignore")
    if "\n" in kept:  # end on a whole source line rather than mid-sentence
        kept = kept[: kept.rfind("\n")]
    return kept + tail
