"""OpenAI-compatible chat over a knowledge base: `model` names the knowledge base.

Existing OpenAI clients (the official SDKs, LangChain, chat front-ends) can talk to kb-assistant as
if it were a model; citations ride along in an extra `citations` field.
"""

import json
import time
import uuid

from fastapi import APIRouter, HTTPException, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from app import schemas

chat_completions_router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])


def _text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _split_conversation(messages: list[schemas.OpenAIMessage]) -> tuple[str, list[dict]]:
    turns = [(m.role, _text(m.content)) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise HTTPException(422, "the last message must be a non-empty user message")
    question = turns[-1][1]
    if len(question) > 2000:
        raise HTTPException(422, "the question is longer than 2000 characters")
    return question, [{"role": r, "content": c} for r, c in turns[:-1]]


@chat_completions_router.get("/models")
def list_models(request: Request):
    kbs = request.app.state.services.store.list()
    return {"object": "list", "data": [{"id": kb.name, "object": "model", "created": 0, "owned_by": "kb-assistant"}
                                       for kb in kbs]}


@chat_completions_router.post("/chat/completions")
async def chat_completions(body: schemas.ChatCompletionRequest, request: Request):
    from app.answering import build_chain

    services = request.app.state.services
    question, history = _split_conversation(body.messages)
    chain = await run_in_threadpool(build_chain, services, body.model, temperature=body.temperature,
                                    max_tokens=body.max_tokens)
    completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if not body.stream:
        answer = await run_in_threadpool(chain.invoke, question, history)
        return {
            "id": completion_id, "object": "chat.completion", "created": created, "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": answer.usage["input_tokens"], "completion_tokens": answer.usage["output_tokens"],
                      "total_tokens": answer.usage["total_tokens"]},
            "citations": [_citation(c) for c in answer.citations],
            "timings": answer.timings,
        }
    return EventSourceResponse(_stream(chain, question, history, completion_id, created, body.model))


def _citation(c) -> dict:
    return {"n": c.n, "source": c.source, "page": c.page, "text": c.text, "score": c.score}


async def _stream(chain, question, history, completion_id, created, model):
    from llm_backends import LLMBackendError

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return json.dumps(body, ensure_ascii=False)

    yield {"data": chunk({"role": "assistant", "content": ""})}
    try:
        async for kind, payload in iterate_in_threadpool(chain.stream(question, history)):
            if kind == "token":
                yield {"data": chunk({"content": payload})}
            elif kind == "citations":
                citations = [_citation(c) for c in payload]
        yield {"data": chunk({}, "stop", citations=citations)}
    except LLMBackendError as exc:
        yield {"data": json.dumps({"error": {"message": exc.message, "type": "backend_unavailable"}})}
    yield {"data": "[DONE]"}
