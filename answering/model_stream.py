"""Reading a chat model's stream: its text pieces, the usage it reports, and what the local model
reads along the way (the refusal gate's reading, the chosen tokens' log-probabilities)."""

from collections.abc import Callable, Iterator

from langchain_core.language_models import BaseChatModel


def model_pieces(
    chat_model: BaseChatModel,
    messages,
    usage: dict,
    explain_error: Callable[[BaseException], Exception] | None = None,
    signals: dict | None = None,
    extra: dict | None = None,
    logprobs: list | None = None,
) -> Iterator[str]:
    """The model's text pieces; adds up ``usage``, puts the refusal gate's reading in ``signals``
    and the chosen tokens' log-probabilities in ``logprobs``; a failure becomes
    ``explain_error(exc)``."""
    written, told = 0, False  # pieces streamed; whether the model reported its usage
    try:
        for chunk in chat_model.stream(messages, **(extra or {})):
            told = told or bool(getattr(chunk, "usage_metadata", None))
            for key, value in (getattr(chunk, "usage_metadata", None) or {}).items():
                if key in usage and isinstance(value, int):
                    usage[key] += value
            metadata = getattr(chunk, "response_metadata", None) or {}
            if logprobs is not None:
                logprobs.extend(metadata.get("token_logprobs") or [])
            if signals is not None and "refusal_probability" in metadata:
                signals.update({k: metadata[k] for k in ("refusal_probability", "refused_by_gate")})
            if chunk.content:
                written += 1
                yield chunk.content if isinstance(chunk.content, str) else str(chunk.content)
    except Exception as exc:
        if explain_error is None:
            raise
        raise explain_error(exc) from exc
    finally:
        # stopped at a repeat before the usage, which comes last: a piece is about a token
        if not told:
            usage["output_tokens"] += written
            usage["total_tokens"] += written
