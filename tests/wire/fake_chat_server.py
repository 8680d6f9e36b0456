"""A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions wire format.

Each provider's documented variations are reproduced where they matter to a client:
error body shapes, Spark's ``code``/``sid`` fields (and its errors sent as HTTP 200),
Spark's ``data:`` lines without a space. Replies are scripted per test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable -> application/json
    sse: list[str] | None = None  # raw SSE lines (without the trailing blank line)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Responder = Callable[[Recorded], Reply]

# Error bodies as each provider documents them (401 shown; other statuses reuse the shape).
ERROR_BODIES: dict[str, Callable[[int, str], dict]] = {
    "openai": lambda status, msg: {
        "error": {
            "message": msg,
            "type": "invalid_request_error",
            "param": None,
            "code": str(status),
        }
    },
    "zhipu": lambda status, msg: {
        "error": {"code": "1002" if status == 401 else "1302", "message": msg}
    },
    "qianfan": lambda status, msg: {
        "error": {"code": "invalid_iam_token", "message": msg, "type": "invalid_request_error"},
        "id": "as-test",
    },
    "spark": lambda status, msg: {
        "error": {"message": msg, "type": "api_error", "param": None, "code": None}
    },
    "vllm": lambda status, msg: {
        "object": "error",
        "message": msg,
        "type": "BadRequestError",
        "param": None,
        "code": status,
    },
    "openai_compatible": lambda status, msg: {
        "error": {"message": msg, "type": "api_error", "code": status}
    },
}


def completion_body(style: str, model: str, text: str) -> dict:
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1719546385,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
    }
    if style == "spark":  # Spark adds code/message/sid to every response
        body.update({"code": 0, "message": "Success", "sid": "cha000b0003@dx1905cd86d6bb86d552"})
    return body


def stream_lines(style: str, model: str, pieces: list[str]) -> list[str]:
    prefix = "data:" if style == "spark" else "data: "  # Spark's docs show no space after the colon
    lines = []
    for i, piece in enumerate(pieces):
        chunk: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "created": 1719546385,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "delta": ({"role": "assistant"} if i == 0 else {}) | {"content": piece},
                    "finish_reason": None,
                }
            ],
        }
        if style == "spark":
            chunk.update(
                {"code": 0, "message": "Success", "sid": "cha000b000c@dx1905cf38fc8b86d552"}
            )
        lines.append(prefix + json.dumps(chunk, ensure_ascii=False))
    final = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1719546385,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    lines.append(prefix + json.dumps(final))
    lines.append(prefix + "[DONE]")
    return lines


def chat_responder(style: str, pieces: list[str]) -> Responder:
    """Answer ``"".join(pieces)``: as JSON, or as SSE chunks one piece each when stream=true."""

    def respond(req: Recorded) -> Reply:
        model = (req.body or {}).get("model", "unknown")
        if (req.body or {}).get("stream"):
            return Reply(sse=stream_lines(style, model, pieces))
        return Reply(body=completion_body(style, model, "".join(pieces)))

    return respond


def error_responder(style: str, status: int, message: str) -> Responder:
    # retry-after-ms keeps the client's retry backoff short in tests (the openai client honours it).
    return lambda req: Reply(
        status=status, body=ERROR_BODIES[style](status, message), headers={"retry-after-ms": "10"}
    )


class FakeChatServer:
    """``with FakeChatServer("zhipu") as srv: srv.respond = ...; srv.url; srv.requests``."""

    def __init__(self, style: str = "openai", respond: Responder | None = None) -> None:
        self.style = style
        self.respond: Responder = respond or chat_responder(style, ["ok"])
        self.requests: list[Recorded] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                req = Recorded(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                fake.requests.append(req)
                reply = fake.respond(req)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.sse is not None:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "text/event-stream")
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    # one write per event, so the client sees them one by one
                    for line in reply.sse:
                        self.wfile.write((line + "\n\n").encode("utf-8"))
                        self.wfile.flush()
                    return
                data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler
