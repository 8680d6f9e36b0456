"""OpenAI-compatible chat over a knowledge base: `model` names the knowledge base.

Existing OpenAI clients (the official SDKs, LangChain, chat front-ends) can talk to kb-assistant as
if it were a model; citations ride along in an extra `citations` field. System (and developer)
messages reach the model after the knowledge-base rules; usage is counted; errors on this route come
in OpenAI's shape (``app.web.errors``).
"""

import json
import time
import uuid

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from answering import Done, Failed, Sources, Token
from app.operations import AnswerService, AskOptions, InvalidRequest, KnowledgeService, Queued
from app.web import schemas
from app.web.deps import answers, knowledge
from app.web.waiting import whole_answer

chat_completions_router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _split_conversation(messages: list[schemas.OpenAIMessage]) -> tuple[str, list[dict], str]:
    """(question, history, the callers' own system instructions)."""
    turns = [(m.role, _text(m.content)) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise InvalidRequest("the last message must be a non-empty user message")
    instructions = "\n".join(
        _text(m.content) for m in messages if m.role in ("system", "developer")
    ).strip()
    return turns[-1][1], [{"role": r, "content": c} for r, c in turns[:-1]], instructions


def _refuse_unsupported(body: schemas.ChatCompletionRequest) -> None:
    if body.n is not None and body.n > 1:
        raise InvalidRequest("n > 1 is not supported: kb-assistant returns one answer per request")
    for name in ("tools", "tool_choice", "functions"):
        if getattr(body, name):
            raise InvalidRequest(
                f"'{name}' is not supported: kb-assistant answers from its knowledge base "
                "and does not call tools"
            )


def _usage(answer) -> dict:
    return {
        "prompt_tokens": answer.usage["input_tokens"],
        "completion_tokens": answer.usage["output_tokens"],
        "total_tokens": answer.usage["total_tokens"],
    }


@chat_completions_router.get("/models")
def list_models(kbs: KnowledgeService = Depends(knowledge)):
    return {
        "object": "list",
        "data": [
            {"id": kb.name, "object": "model", "created": 0, "owned_by": "kb-assistant"}
            for kb in kbs.list_kbs()
        ],
    }


@chat_completions_router.post("/chat/completions")
async def chat_completions(
    request: Request,
    body: schemas.ChatCompletionRequest,
    service: AnswerService = Depends(answers),
):
    _refuse_unsupported(body)
    question, history, instructions = _split_conversation(body.messages)
    options = AskOptions(
        body.model,
        temperature=body.temperature,
        max_tokens=body.max_completion_tokens or body.max_tokens,
        instructions=instructions or None,
    )
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
    events = await run_in_threadpool(service.stream, question, history, options)
    if not body.stream:
        answer = await whole_answer(request, events)
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.answer},
                    "finish_reason": "length" if answer.cut_at_length else "stop",
                }
            ],
            "usage": _usage(answer),
            "citations": [c.as_dict() for c in answer.citations],
            "timings": answer.timings,
            "confidence": answer.confidence,
            "answer_id": answer.answer_id,  # what POST /feedback rates it by
        }
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    return EventSourceResponse(_stream(events, completion_id, created, body.model, include_usage))


async def _stream(events, completion_id: str, created: int, model: str, include_usage: bool):
    def chunk(delta: dict | None, finish: str | None = None, **extra) -> dict:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **({"usage": None} if include_usage else {}),
            **extra,
        }
        return {"data": json.dumps(body, ensure_ascii=False)}

    yield chunk({"role": "assistant", "content": ""})
    citations: list[dict] = []
    try:
        async for event in iterate_in_threadpool(events):
            match event:
                case Queued(position, wait_s):  # an SSE comment: OpenAI clients skip it
                    about = "?" if wait_s is None else wait_s
                    yield {"comment": f"queued: {position} ahead, about {about} s"}
                case Token(text):
                    yield chunk({"content": text})
                case Sources(found):
                    citations = [c.as_dict() for c in found]
                case Done(answer):
                    yield chunk(
                        {},
                        "length" if answer.cut_at_length else "stop",
                        citations=[c.as_dict() for c in answer.citations] or citations,
                        confidence=answer.confidence,
                        answer_id=answer.answer_id,
                    )
                    if include_usage:  # OpenAI's form: a last chunk with no choices and the usage
                        yield chunk(None, usage=_usage(answer))
                case Failed(message):
                    yield {"data": json.dumps({"error": _server_error(message)})}
    finally:
        events.cancel()  # a client that left leaves the queue
    yield {"data": "[DONE]"}


def _server_error(message: str) -> dict:
    return {
        "message": message,
        "type": "server_error",
        "code": "backend_unavailable",
        "param": None,
    }
