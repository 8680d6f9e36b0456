"""A whole answer for a request that is not streamed, after its turn; a client that disconnects
while it waits leaves the queue (its question is never answered into the void)."""

from fastapi import Request
from starlette.concurrency import iterate_in_threadpool

from answering import Answer, Done, Failed
from app.operations import Queued, TurnStream, Unavailable


class ClientLeft(Exception):
    """The client disconnected before its question's turn (nobody reads the reply)."""


class AnswerFailed(Unavailable):
    """The model could not answer (e.g. a dead backend): 503 with the reason."""


async def whole_answer(request: Request, events: TurnStream) -> Answer:
    """The ``Done`` answer; ``AnswerFailed`` (503) with the reason when answering failed."""
    try:
        async for event in iterate_in_threadpool(events):
            match event:
                case Queued() if await request.is_disconnected():
                    raise ClientLeft()
                case Done(answer):
                    return answer
                case Failed(message):
                    raise AnswerFailed(message)
    finally:
        events.cancel()
    raise AnswerFailed("the answer ended without a result")
