"""Failures as MCP tool errors (an ``isError`` result the model reads) with the sentence every other
door shows: never a trace, and an unknown knowledge base names the ones there are."""

import functools
from collections.abc import Callable
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

from app.operations import KBNotFound, NotFound, Operations, user_message

_Fn = TypeVar("_Fn", bound=Callable)


def explain(ops: Operations, exc: BaseException) -> str:
    """The one sentence for ``exc`` (``user_message`` logs the trace of an unexpected one)."""
    message = user_message(exc)
    if isinstance(exc, KBNotFound):
        message += f"; the knowledge bases here are: {known_kbs(ops)}"
    return message


def known_kbs(ops: Operations) -> str:
    try:
        names = [kb.name for kb in ops.knowledge.list_kbs()]
    except Exception:  # noqa: BLE001  the store is down: the first sentence says enough
        return "(cannot be listed now)"
    return ", ".join(names) or "none yet (add_documents creates one)"


def tool_errors(ops: Operations) -> Callable[[_Fn], _Fn]:
    """Wraps a tool: whatever it raises reaches the client as a ToolError with that sentence. The
    wrapper keeps the tool's signature and docstring, which the SDK turns into its schema."""

    def decorate(fn: _Fn) -> _Fn:
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except ToolError:
                raise
            except Exception as exc:  # noqa: BLE001  every failure becomes the client's message
                raise ToolError(explain(ops, exc)) from None

        return run  # type: ignore[return-value]

    return decorate


def resource_error(ops: Operations, exc: Exception) -> ResourceError:
    """A resource read's failure: not found (-32602) for an unknown knowledge base or document."""
    if isinstance(exc, KBNotFound | NotFound):
        return ResourceNotFoundError(explain(ops, exc))
    return ResourceError(explain(ops, exc))
