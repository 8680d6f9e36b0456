"""``LocalEngine``: one packaged GGUF model file loaded by llama-cpp-python, shared by every chat
model over it.

It owns the weights, the context and a generation lock, so a new temperature or answer length never
loads the weights again. An instruct model's messages are rendered with the GGUF's own chat template
(llama.cpp's ``Jinja2ChatFormatter``, exactly what ``create_chat_completion`` does inside); a base
model (Gemma 270M) gets one plain completion prompt that ends in an answer cue.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from .errors import LLMBackendError
from .local_models import LocalModelSpec, Progress, ensure_model_file, local_model_spec

log = logging.getLogger("kb.llm.local")

# A base model keeps writing the next "question" after its answer; these end it there.
BASE_MODEL_STOP = (
    "\n\n",
    "\n问：",
    "\n问题：",
    "\nQuestion:",
    "\n资料：",
    "\nContext:",
    "<eos>",
    "<end_of_turn>",
)
# Where the question begins in a rendered message: kept whole when sources are cut to fit.
_QUESTION_MARKERS = ("\n问：", "\n问题：", "\nQuestion:", "\n后续问题：", "\nFollow-up question:")
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_DIGITS = re.compile(r"\d+")


def is_looping(text: str, window: int = 12, repeats: int = 4) -> bool:
    """True when the tail of ``text`` keeps repeating (numbers ignored: "第1章，第2章，第3章…")."""
    shape = _DIGITS.sub("#", text)
    if len(shape) < window * repeats:
        return False
    return any(shape.endswith(shape[-size:] * repeats) for size in range(2, window + 1))


def render_completion_prompt(messages: list[BaseMessage]) -> str:
    """A base model's prompt: message texts in order, ending in an answer cue right after the
    question line (a reminder written after the question, for chat models, would be continued by a
    base model rather than followed)."""
    return _completion_prompt([m.text for m in messages])


def _completion_prompt(texts: list[str]) -> str:
    text = "\n".join(t.strip() for t in texts if t.strip())
    if text.endswith((":", "：")):
        return text
    lines = text.split("\n")
    asked = [i for i, line in enumerate(lines) if line.startswith(("问题：", "问：", "Question:"))]
    if asked:
        lines = lines[: asked[-1] + 1]
    cue = "\n答：" if lines[-1].startswith(("问题：", "问：")) else "\nAnswer:"
    return "\n".join(lines) + cue


class LocalEngine:
    """One GGUF file loaded once, shared by every chat model over it.

    ``start_loading()`` loads in a background thread (a server calls it at start-up);
    ``state`` says how far it got. A llama.cpp context is not reentrant: ``lock`` serialises
    generation.
    """

    def __init__(
        self,
        model_path: str | None = None,
        model_id: str | None = None,
        models_dir: str | None = None,
        n_ctx: int = 4096,
        n_threads: int = 2,
        prompt_lookup_tokens: int = 0,
        progress: Progress | None = None,
    ):
        if model_path is None and models_dir is None:
            raise LLMBackendError(
                "The local model needs models_dir (where the packaged GGUF is written) or a "
                "model_path",
                provider="local",
            )
        self.spec: LocalModelSpec | None = None if model_path else local_model_spec(model_id)
        self.model_path, self.models_dir = model_path, models_dir
        self.n_ctx, self.n_threads, self.progress = n_ctx, n_threads, progress
        self.prompt_lookup_tokens = prompt_lookup_tokens
        self.lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._llama: Any = None
        self._side_llama: Any = None
        self._formatter: Any = None
        self.state = "not loaded"
        self.error: str | None = None
        self.load_s: float | None = None

    @property
    def name(self) -> str:
        return self.spec.id if self.spec else Path(self.model_path or "").name

    @property
    def ready(self) -> bool:
        return self._llama is not None

    def start_loading(self) -> threading.Thread:
        if self._llama is None:
            self.state = "loading"  # said at once, before the thread gets going
        thread = threading.Thread(target=self._load_quietly, name="load-local-model", daemon=True)
        thread.start()
        return thread

    def _load_quietly(self) -> None:
        try:
            self.load()
        except LLMBackendError as exc:
            log.error("local model could not be loaded: %s", exc.message)

    def load(self) -> Any:
        """The llama.cpp model, loaded on first call (thread-safe)."""
        if self._llama is not None:
            return self._llama
        with self._load_lock:
            if self._llama is None:
                self.state, start = "loading", time.perf_counter()
                try:
                    self._llama, self._formatter = self._open()
                except LLMBackendError as exc:
                    self.state, self.error = "failed", exc.message
                    raise
                self.state, self.error, self.load_s = (
                    "ready",
                    None,
                    round(time.perf_counter() - start, 2),
                )
                log.info("local model %s ready in %.1f s", self.name, self.load_s)
        return self._llama

    def side_context(self) -> Any:
        """A second llama.cpp context over the same file (the OS maps the weights once), for work
        that must not evict the answer prompt's cache: rewriting a follow-up question
        (``side_context=True`` on a stream)."""
        llama = self.load()
        with self._load_lock:
            if self._side_llama is None:
                from llama_cpp import Llama

                self._side_llama = Llama(
                    model_path=llama.model_path,
                    n_ctx=2048,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    seed=0,
                    verbose=False,
                )
        return self._side_llama

    def _open(self) -> tuple[Any, Any]:
        try:
            from llama_cpp import Llama  # heavy: imported only when the local model is used
        except ImportError as exc:
            raise LLMBackendError(
                "The local model needs llama-cpp-python, which is not installed", provider="local"
            ) from exc
        if self.model_path:
            path = self.model_path
        else:
            # no own file: a packaged model
            assert self.spec is not None and self.models_dir is not None
            path = str(ensure_model_file(self.spec.id, self.models_dir, self.progress))
        if not Path(path).is_file():
            raise LLMBackendError(f"Local model file {path} was not found", provider="local")
        draft = self._draft_model()
        try:
            # logits_all with a draft model: llama-cpp-python 0.3.36 turns it on by itself but sizes
            # its logits buffer from the argument (n_batch rows), and a prompt past 512 tokens then
            # fails.
            llama = Llama(
                model_path=path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                seed=0,
                verbose=False,
                draft_model=draft,
                logits_all=draft is not None,
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMBackendError(
                f"Local model file {path} could not be loaded (is it a valid GGUF?)",
                provider="local",
            ) from exc
        return llama, self._chat_formatter(llama)

    def _draft_model(self) -> Any:
        """Prompt-lookup decoding: answers copy spans of the sources, so the tokens that followed
        the last two in the prompt are tried as the next ones, checked in one batch.
        (llama-cpp-python then keeps every token's logits: n_ctx x vocabulary floats, 2.5 GB for
        Qwen2.5 at n_ctx 4096.)"""
        if self.prompt_lookup_tokens <= 0:
            return None
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        return LlamaPromptLookupDecoding(num_pred_tokens=self.prompt_lookup_tokens)

    def _chat_formatter(self, llama: Any) -> Any:
        """The GGUF's own chat template, set up as llama.cpp's chat completion sets it up."""
        template = llama.metadata.get("tokenizer.chat_template")
        if not template or (self.spec is not None and not self.spec.chat):
            return None  # a base model: plain completion
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        eos, bos = llama.token_eos(), llama.token_bos()
        text = lambda token: llama._model.token_get_text(token) if token != -1 else ""  # noqa: E731
        return Jinja2ChatFormatter(
            template=template, eos_token=text(eos), bos_token=text(bos), stop_token_ids=[eos]
        )

    @property
    def uses_chat_template(self) -> bool:
        """An instruct model rendered with its own template (else a base model, plain
        completion)."""
        self.load()
        return self._formatter is not None

    def render(self, messages: list[dict]) -> tuple[list[int], list[str], Any]:
        """(prompt tokens, stop strings, stopping criteria) for role/content messages."""
        llama = self.load()
        if self._formatter is None:
            prompt = _completion_prompt([m["content"] for m in messages])
            return llama.tokenize(prompt.encode("utf-8"), add_bos=True), [], None
        result = self._formatter(messages=messages)
        tokens = llama.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        stop = [result.stop] if isinstance(result.stop, str) else list(result.stop or [])
        return tokens, stop, result.stopping_criteria
