"""Chat models for kb-assistant: an offline local model by default, or a remote provider.

``build_chat_model(LLMConfig(...))`` returns a LangChain ``BaseChatModel`` (``invoke``,
``stream``, ``ainvoke``, ``astream``). The local model's weights live in a
``LocalEngine`` (``build_local_engine``) that the caller keeps and passes in, so every
chat model over one file shares one loaded copy. ``model_profile(config)`` says how the
answer chain should use a model (answer cap, sources budget, condensing). Failures are
turned into one clear sentence with ``explain_error(exc, config)``. Nothing here reads
environment variables or settings: the app maps its settings onto ``LLMConfig``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import (
    PROVIDERS,
    LLMConfig,
    ModelProfile,
    model_profile,
    resolved_base_url,
    resolved_model,
    safe_url,
)
from .errors import LLMBackendError, SparkAPIError, explain_error
from .local_models import DEFAULT_LOCAL_MODEL, LOCAL_MODELS, Progress, ensure_model_file

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from .local_engine import LocalEngine

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "LOCAL_MODELS",
    "PROVIDERS",
    "LLMBackendError",
    "LLMConfig",
    "ModelProfile",
    "SparkAPIError",
    "build_chat_model",
    "build_local_engine",
    "describe",
    "ensure_model_file",
    "explain_error",
    "model_profile",
    "warm_up",
]


def build_local_engine(config: LLMConfig, progress: Progress | None = None) -> LocalEngine:
    """The (not yet loaded) engine for a local config; keep one per model file and share it."""
    from .local_engine import LocalEngine

    if config.model_path and not Path(config.model_path).is_file():
        raise LLMBackendError(
            f"Local model file {config.model_path} was not found", provider="local"
        )
    return LocalEngine(
        model_path=config.model_path,
        model_id=config.model,
        models_dir=config.models_dir,
        n_ctx=config.n_ctx,
        n_threads=config.n_threads,
        prompt_lookup_tokens=config.prompt_lookup_tokens,
        progress=progress,
    )


def build_chat_model(config: LLMConfig, engine: LocalEngine | None = None) -> BaseChatModel:
    """A chat model for ``config.provider``; cheap (no network; the local model loads on first
    use)."""
    if config.provider not in PROVIDERS:
        raise LLMBackendError(
            f"Unknown LLM provider {config.provider!r}; expected one of: {', '.join(PROVIDERS)}",
            provider=str(config.provider),
        )
    if config.provider == "local":
        from .local import LocalChatModel

        engine = engine or build_local_engine(config)
        return LocalChatModel(
            engine=engine,
            model_name=resolved_model(config),
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            has_side_context=config.side_context,
        )
    from .remote import build_remote_chat_model

    return build_remote_chat_model(config)


def warm_up(chat_model: BaseChatModel, config: LLMConfig) -> None:
    """Load a model's weights now, with a few generated tokens, where its profile says loading is
    slow (local models); remote models need nothing."""
    if model_profile(config).preload:
        chat_model.invoke("1 + 1 =", stop=[" ", ".", "。", "，", ","])


def describe(config: LLMConfig) -> dict[str, Any]:
    """Provider and resolved model (plus endpoint for remote providers), for /health. No secrets."""
    info: dict[str, Any] = {"provider": config.provider, "model": resolved_model(config)}
    if config.provider != "local":
        info["base_url"] = safe_url(resolved_base_url(config))
    return info
