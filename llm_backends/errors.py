"""Turn provider, transport and llama.cpp failures into one clear, key-free sentence."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from .config import PROVIDERS, LLMConfig, resolved_base_url, resolved_model, safe_url


class LLMBackendError(Exception):
    """A failure explained for humans.

    ``message`` is one sentence fit for the UI; ``detail`` is the (scrubbed,
    shortened) server text for logs; ``status_code`` is the HTTP status if any.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.detail = detail


class SparkAPIError(Exception):
    """Spark reports failures as HTTP 200 with a nonzero ``code`` in the JSON body."""

    def __init__(self, code: int, message: str, sid: str | None = None) -> None:
        super().__init__(f"Spark error code {code}: {message}")
        self.code = code
        self.server_message = message
        self.sid = sid


# Spark HTTP API error codes (https://www.xfyun.cn/doc/spark/HTTP调用文档.html, 错误码).
_SPARK_CODES = {
    10007: "Spark is busy: the account's traffic limit was hit (code 10007)",
    10013: "Spark refused the question: it failed content review (code 10013)",
    10014: "Spark refused to answer: the output failed content review (code 10014)",
    10019: "Spark refused the request: it was flagged by content review (code 10019)",
    10907: "Spark rejected the request: too many tokens for the model (code 10907)",
    11200: "Spark rejected the API password, or the model is not enabled for it (code 11200)",
    11201: "Spark daily quota exceeded (code 11201)",
    11202: "Spark rate limit hit: too many requests per second (code 11202)",
    11203: "Spark rate limit hit: too many concurrent requests (code 11203)",
}

_KEYLIKE_RE = re.compile(r"(?i)\b(?:bearer\s+\S+|sk-[\w*.-]{6,}|bce-v3/[\w/*.-]{6,})")


def scrub(text: str, api_key: str | None) -> str:
    """Remove the key (and anything that looks like one) from text shown to people."""
    if api_key:
        text = text.replace(api_key, "***")
        # Servers often echo the key partly masked ("sk-ab****yz"); drop long fragments too.
        for part in re.split(r"[:/]", api_key):
            if len(part) >= 8:
                text = text.replace(part, "***")
    return _KEYLIKE_RE.sub("***", text)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _server_detail(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return body["message"]
    return str(getattr(exc, "message", "") or exc)


def _retries(n: int) -> str:
    return "with no retries" if n <= 0 else f"after {n} {'retry' if n == 1 else 'retries'}"


def explain_error(exc: BaseException, config: LLMConfig) -> LLMBackendError:
    """Map an exception from a chat model built by ``build_chat_model`` to an LLMBackendError."""
    if isinstance(exc, LLMBackendError):
        return exc
    message, status, detail = _classify(exc, config)
    return LLMBackendError(
        scrub(message, config.api_key),
        provider=config.provider,
        status_code=status,
        detail=scrub(detail, config.api_key)[:300],
    )


def _classify(exc: BaseException, config: LLMConfig) -> tuple[str, int | None, str]:
    import openai  # a dependency of langchain-openai; imported here to keep package import light

    spec = PROVIDERS.get(config.provider)
    label = spec.label if spec else str(config.provider)
    where = safe_url(resolved_base_url(config)) or "the configured URL"
    model = resolved_model(config)

    for err in _chain(exc):
        if isinstance(err, LLMBackendError):
            return err.message, err.status_code, err.detail
        if isinstance(err, SparkAPIError):
            text = _SPARK_CODES.get(
                err.code, f"Spark returned error code {err.code}: {err.server_message[:160]}"
            )
            return text, None, err.server_message
        if isinstance(err, openai.APIStatusError):
            status, detail = err.status_code, _server_detail(err)
            if status == 401:
                return f"{label} rejected the API key (HTTP 401)", status, detail
            if status == 403:
                return (
                    (
                        f"{label} denied access with this API key (HTTP 403): the account or key is"
                        f" not allowed to use model '{model}'"
                    ),
                    status,
                    detail,
                )
            if status == 404:
                return (
                    (
                        f"{label} does not know model '{model}' or has no chat endpoint at {where}"
                        " (HTTP 404)"
                    ),
                    status,
                    detail,
                )
            if status == 429:
                return (
                    f"{label} rate limit hit (HTTP 429) {_retries(config.max_retries)}",
                    status,
                    detail,
                )
            if status >= 500:
                return (
                    f"{label} server error (HTTP {status}) {_retries(config.max_retries)}",
                    status,
                    detail,
                )
            short = scrub(detail, config.api_key)[:200]
            return f"{label} rejected the request (HTTP {status}): {short}", status, detail
        if isinstance(err, openai.APITimeoutError):
            return f"{label} at {where} did not answer within {config.timeout_s:g} s", None, ""
        if isinstance(err, openai.APIConnectionError):
            causes = {type(c).__name__ for c in _chain(err)}
            # connected, then cut off
            if causes & {"RemoteProtocolError", "ReadError", "EndOfStream"}:
                return (
                    f"{label} at {where} closed the connection mid-response",
                    None,
                    "connection closed early",
                )
            return f"{label} at {where} is not reachable", None, str(err)
        if isinstance(err, openai.APIError):  # an error object sent inside a 200 response or stream
            detail = _server_detail(err)
            return f"{label} reported an error: {scrub(detail, config.api_key)[:200]}", None, detail
        if isinstance(err, json.JSONDecodeError):
            return f"{label} sent a malformed response (not valid JSON)", None, str(err)
        if isinstance(err, ImportError) and "llama_cpp" in str(err):
            return "The local model needs llama-cpp-python, which is not installed", None, str(err)
    if config.provider == "local":
        return f"The local model failed: {type(exc).__name__}: {str(exc)[:200]}", None, str(exc)
    if isinstance(exc, (KeyError, TypeError, ValueError)):
        # langchain-openai raises these for bodies without 'choices' and similar.
        return f"{label} sent a response in an unexpected format", None, str(exc)
    return f"{label} call failed ({type(exc).__name__})", None, str(exc)
