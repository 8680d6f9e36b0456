"""Reading a chat model's stream: its text pieces, the usage it reports, and what the local model
reads along the way (its refusal probability, the chosen tokens' log-probabilities)."""

from collections.abc import Callable, Iterator

from langchain_core.language_models import BaseChatModel

from answering.refusal import Evidence


def model_pieces(
    chat_model: BaseChatModel,
    messages,
    usage: dict,
    explain_error: Callable[[BaseException], Exception] | None = None,
    evidence: Evidence | None = None,
    extra: dict | None = None,
    logprobs: list | None = None,
) -> Iterator[str]:
    """The model's text pieces; adds up ``usage``, puts its refusal probability in ``evidence``
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
            if evidence is not None and "refusal_probability" in metadata:
                evidence.refusal_probability = metadata["refusal_probability"]
            if evidence is not None and metadata.get("finish_reason") == "length":
                evidence.cut_at_length = True
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
