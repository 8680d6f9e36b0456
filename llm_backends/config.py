"""LLMConfig and the provider table (endpoints, default models, key rules)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"  # the packaged models are listed in local_models.py

Provider = Literal["local", "openai", "zhipu", "qianfan", "spark", "openai_compatible", "vllm"]


@dataclass(frozen=True)
class LLMConfig:
    provider: Provider = "local"
    # None -> the provider's default (see PROVIDERS); local: a packaged model id
    model: str | None = None
    api_key: str | None = None  # qianfan: the v2 API key (bce-v3/...); spark: the APIPassword
    base_url: str | None = None  # overrides the provider's endpoint
    temperature: float = 0.1
    max_tokens: int = 512
    timeout_s: float = 60.0
    max_retries: int = 2
    # local model a GGUF file; None -> the packaged model `model` assembled into models_dir
    model_path: str | None = None
    models_dir: str | None = None  # where the packaged GGUF is written
    n_threads: int = 2
    n_ctx: int = 4096
    # draft tokens guessed from the prompt per step (speculative decoding); 0 = off
    prompt_lookup_tokens: int = 0
    # a second context for a follow-up's rewrite, so it does not evict the answer prompt's cache
    side_context: bool = True

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        key = "'***'" if self.api_key else "None"
        return (
            f"LLMConfig(provider={self.provider!r}, model={self.model!r}, api_key={key},"
            f" base_url={safe_url(self.base_url)!r}, temperature={self.temperature},"
            f" max_tokens={self.max_tokens}, timeout_s={self.timeout_s},"
            f" max_retries={self.max_retries}, model_path={self.model_path!r},"
            f" models_dir={self.models_dir!r}, n_threads={self.n_threads}, n_ctx={self.n_ctx},"
            f" prompt_lookup_tokens={self.prompt_lookup_tokens},"
            f" side_context={self.side_context})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class ProviderSpec:
    label: str  # how messages name the provider
    base_url: str | None  # None -> the user must give one
    default_model: str | None  # None -> the user must give one
    placeholder_key: str | None = None  # sent when no key is configured; None -> a key is required
    min_temperature: float = 0.0  # some APIs reject 0


PROVIDERS: MappingProxyType[str, ProviderSpec] = MappingProxyType(
    {
        "local": ProviderSpec("Local model", None, DEFAULT_LOCAL_MODEL),
        "openai": ProviderSpec("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini"),
        "zhipu": ProviderSpec("Zhipu", "https://open.bigmodel.cn/api/paas/v4/", "glm-4-flash"),
        # Qianfan ModelBuilder v2 (OpenAI-compatible); temperature must be in (0, 1].
        "qianfan": ProviderSpec(
            "Qianfan", "https://qianfan.baidubce.com/v2", "ernie-4.0-turbo-8k", min_temperature=0.01
        ),
        # Spark HTTP (OpenAI-compatible) API; temperature must be in (0, 1].
        "spark": ProviderSpec(
            "Spark", "https://spark-api-open.xf-yun.com/v1", "lite", min_temperature=0.01
        ),
        "openai_compatible": ProviderSpec(
            "OpenAI-compatible server", None, None, placeholder_key="not-needed"
        ),
        "vllm": ProviderSpec(
            "vLLM server", "http://127.0.0.1:8000/v1", None, placeholder_key="EMPTY"
        ),
    }
)


def safe_url(url: str | None) -> str | None:
    """The URL without user:password, query or fragment, safe to show in messages."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) or url


def resolved_base_url(config: LLMConfig) -> str | None:
    spec = PROVIDERS.get(config.provider)
    return config.base_url or (spec.base_url if spec else None)


def resolved_model(config: LLMConfig) -> str | None:
    if config.provider == "local" and config.model_path:
        return config.model_path.replace("\\", "/").rsplit("/", 1)[-1]
    spec = PROVIDERS.get(config.provider)
    return config.model or (spec.default_model if spec else None)


@dataclass(frozen=True)
class ModelProfile:
    """How the answer chain should use a model: one place per provider, not scattered through the
    app."""

    max_tokens: int  # answer length cap
    context_tokens: int  # sources budget (tokens, see answering.context.context_blocks)
    condense_history: bool  # can it rewrite a follow-up into a standalone question?
    # load the weights when the server starts (a local model), not on the first question
    preload: bool = False


# Local figures come from the first-token curve in the README (2 cores, ~75 prompt tokens/s):
# 700 tokens of sources keep the first token near 8 s with the 1.5B model.
_LOCAL_PROFILES = {
    "qwen2.5-coder-1.5b": ModelProfile(
        max_tokens=256, context_tokens=700, condense_history=True, preload=True
    ),
    # a 270M base model: short answers, short context, and it cannot rewrite questions
    "gemma-3-270m": ModelProfile(
        max_tokens=160, context_tokens=600, condense_history=False, preload=True
    ),
}
_REMOTE_PROFILE = ModelProfile(max_tokens=512, context_tokens=3000, condense_history=True)


def model_profile(config: LLMConfig) -> ModelProfile:
    if config.provider != "local":
        return _REMOTE_PROFILE
    if config.model_path:  # a user's own GGUF: assume an instruct model of the default's size
        return _LOCAL_PROFILES[DEFAULT_LOCAL_MODEL]
    return _LOCAL_PROFILES.get(
        config.model or DEFAULT_LOCAL_MODEL, _LOCAL_PROFILES[DEFAULT_LOCAL_MODEL]
    )
