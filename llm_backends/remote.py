"""Remote providers, all spoken through the OpenAI chat-completions protocol.

OpenAI itself uses ``ChatOpenAI``. Every other provider uses ``BaseChatOpenAI``
(the base class langchain-openai keeps for OpenAI-compatible APIs, as
langchain-deepseek does): it sends ``max_tokens``, whereas ``ChatOpenAI`` renames
it to ``max_completion_tokens``, which llama.cpp server, older vLLM, Spark and
Zhipu do not read.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from langchain_openai.chat_models.base import BaseChatOpenAI

from .config import PROVIDERS, LLMConfig, resolved_base_url, resolved_model, safe_url
from .errors import LLMBackendError, SparkAPIError


class OpenAICompatibleChatModel(BaseChatOpenAI):
    """Chat model for OpenAI-compatible servers; sends ``max_tokens`` as is."""

    @property
    def _llm_type(self) -> str:
        return "openai-compatible-chat"


def _raise_on_spark_code(data: dict) -> None:
    code = data.get("code")
    if code not in (None, 0, "0"):
        try:
            code = int(code)
        except (TypeError, ValueError):
            code = -1
        raise SparkAPIError(code, str(data.get("message") or ""), data.get("sid"))


class SparkChatModel(OpenAICompatibleChatModel):
    """iFlytek Spark: errors arrive as HTTP 200 bodies (and stream chunks) with ``code != 0``.

    Without this check the OpenAI client would read such a body as an empty answer.
    """

    @property
    def _llm_type(self) -> str:
        return "spark-chat"

    def _create_chat_result(self, response: Any, generation_info: dict | None = None) -> ChatResult:
        if isinstance(response, dict):
            _raise_on_spark_code(response)
        elif hasattr(response, "model_dump"):
            _raise_on_spark_code(response.model_dump(warnings=False))
        return super()._create_chat_result(response, generation_info)

    def _convert_chunk_to_generation_chunk(
        self, chunk: dict, default_chunk_class: type, base_generation_info: dict | None
    ) -> ChatGenerationChunk | None:
        _raise_on_spark_code(chunk)
        return super()._convert_chunk_to_generation_chunk(
            chunk, default_chunk_class, base_generation_info
        )


def build_remote_chat_model(config: LLMConfig) -> BaseChatModel:
    spec = PROVIDERS[config.provider]
    base_url = resolved_base_url(config)
    if not base_url:
        raise LLMBackendError(
            f"The {config.provider} provider needs base_url (e.g. https://api.deepseek.com/v1 or"
            " http://127.0.0.1:11434/v1)",
            provider=config.provider,
        )
    model = resolved_model(config)
    if not model:
        raise LLMBackendError(
            f"The {config.provider} provider needs a model name: the one the server at"
            f" {safe_url(base_url)} serves (listed by GET /models)",
            provider=config.provider,
        )
    api_key = config.api_key or spec.placeholder_key
    if not api_key:
        raise LLMBackendError(f"{spec.label} needs an API key", provider=config.provider)

    # Explicit key and URL always: ChatOpenAI would otherwise fall back to OPENAI_* env vars.
    common: dict[str, Any] = {
        "model": model,
        "api_key": api_key,
        "base_url": base_url,
        "temperature": max(config.temperature, spec.min_temperature),
        "max_tokens": config.max_tokens,
        "timeout": config.timeout_s,
        # the openai client retries 429/5xx/connection errors with backoff
        "max_retries": config.max_retries,
    }
    if config.provider == "openai":
        return ChatOpenAI(**common)
    cls = SparkChatModel if config.provider == "spark" else OpenAICompatibleChatModel
    # stream_options.include_usage is an OpenAI extension some compatible servers reject.
    return cls(**common, stream_usage=False)
