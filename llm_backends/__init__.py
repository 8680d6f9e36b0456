"""Chat models for kb-assistant: an offline local model by default, or a remote provider.

``build_chat_model(LLMConfig(...))`` returns a LangChain ``BaseChatModel`` (``invoke``,
``stream``, ``ainvoke``, ``astream``). Failures are turned into one clear sentence
with ``explain_error(exc, config)``. Nothing here reads environment variables or
settings: the app maps its settings onto ``LLMConfig``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import PROVIDERS, LLMConfig, resolved_base_url, resolved_model, safe_url
from .errors import LLMBackendError, SparkAPIError, explain_error

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = [
    "PROVIDERS",
    "LLMBackendError",
    "LLMConfig",
    "SparkAPIError",
    "build_chat_model",
    "describe",
    "explain_error",
]


def build_chat_model(config: LLMConfig) -> BaseChatModel:
    """A chat model for ``config.provider``; cheap (no network, the local model loads on first use)."""
    if config.provider not in PROVIDERS:
        raise LLMBackendError(
            f"Unknown LLM provider {config.provider!r}; expected one of: {', '.join(PROVIDERS)}",
            provider=str(config.provider),
        )
    if config.provider == "local":
        from .local import LocalCompletionChatModel

        if config.model_path and not Path(config.model_path).is_file():
            raise LLMBackendError(f"Local model file {config.model_path} was not found", provider="local")
        if not config.model_path and not config.models_dir:
            raise LLMBackendError(
                "The local model needs models_dir (where the packaged GGUF is written) or model_path",
                provider="local",
            )
        return LocalCompletionChatModel(
            model_path=config.model_path,
            models_dir=config.models_dir,
            n_ctx=config.n_ctx,
            n_threads=config.n_threads,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
        )
    from .remote import build_remote_chat_model

    return build_remote_chat_model(config)


def describe(config: LLMConfig) -> dict[str, Any]:
    """Provider and resolved model (plus endpoint for remote providers), for /health. No secrets."""
    info: dict[str, Any] = {"provider": config.provider, "model": resolved_model(config)}
    if config.provider != "local":
        info["base_url"] = safe_url(resolved_base_url(config))
    return info
