"""Remote adapters against real local HTTP servers speaking each provider's wire format."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from llm_backends import LLMBackendError, LLMConfig, build_chat_model, describe, explain_error
from tests.wire.fake_chat_server import (
    FakeChatServer,
    Reply,
    chat_responder,
    error_responder,
    stream_lines,
)

KEY = "sk-test-SECRET-4f9a8b7c6d5e"
# (provider, path prefix the real endpoint has, so URL joining is exercised like in production)
REMOTE = [
    ("openai", "/v1"),
    ("zhipu", "/api/paas/v4/"),  # the real base URL ends in a slash
    ("qianfan", "/v2"),
    ("spark", "/v1"),
    ("openai_compatible", "/compat/v1"),
    ("vllm", "/v1"),
]
LABELS = {
    "openai": "OpenAI",
    "zhipu": "Zhipu",
    "qianfan": "Qianfan",
    "spark": "Spark",
    "openai_compatible": "OpenAI-compatible server",
    "vllm": "vLLM server",
}
MESSAGES = [
    SystemMessage("Answer from the context."),
    HumanMessage("资料：\n[1] 天空是蓝色的。\n问：天空是什么颜色？\n答："),
]


def _config(provider: str, server: FakeChatServer, prefix: str, **kw) -> LLMConfig:
    model = None if provider not in ("vllm", "openai_compatible") else "served-model"
    defaults = dict(
        provider=provider,
        model=model,
        api_key=KEY,
        base_url=server.url + prefix,
        max_tokens=64,
        max_retries=2,
    )
    return LLMConfig(**(defaults | kw))


def _fail(model, config, stream: bool = False) -> LLMBackendError:
    with pytest.raises(Exception) as info:
        if stream:
            list(model.stream(MESSAGES))
        else:
            model.invoke(MESSAGES)
    err = explain_error(info.value, config)
    assert isinstance(err, LLMBackendError)
    for text in (err.message, err.detail, str(err)):
        assert KEY not in text and "SECRET-4f9a" not in text
    return err


@pytest.mark.parametrize(("provider", "prefix"), REMOTE)
def test_invoke_sends_documented_request_and_parses_reply(provider, prefix):
    with FakeChatServer(provider) as srv:
        srv.respond = chat_responder(provider, ["蓝色", "[1]"])
        config = _config(provider, srv, prefix)
        reply = build_chat_model(config).invoke(MESSAGES)
    assert reply.content == "蓝色[1]"
    [req] = srv.requests
    assert req.path == prefix.rstrip("/") + "/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.body["model"] == describe(config)["model"]
    assert req.body["messages"] == [
        {"role": "system", "content": "Answer from the context."},
        {"role": "user", "content": MESSAGES[1].content},
    ]
    assert not req.body.get("stream")
    assert req.body["temperature"] == pytest.approx(0.1)
    if provider == "openai":
        assert req.body["max_completion_tokens"] == 64
    else:  # servers like llama.cpp / older vLLM / Spark only read max_tokens
        assert req.body["max_tokens"] == 64 and "max_completion_tokens" not in req.body


@pytest.mark.parametrize(("provider", "prefix"), REMOTE)
def test_stream_yields_token_by_token(provider, prefix):
    pieces = ["The ", "sky ", "is ", "blue", " [1]."]
    with FakeChatServer(provider) as srv:
        srv.respond = chat_responder(provider, pieces)
        chunks = [
            c.content for c in build_chat_model(_config(provider, srv, prefix)).stream(MESSAGES)
        ]
    assert [c for c in chunks if c] == pieces
    [req] = srv.requests
    assert req.body["stream"] is True
    if provider != "openai":  # an OpenAI-only extension that some compatible servers reject
        assert "stream_options" not in req.body


def test_astream_works():
    with FakeChatServer("zhipu") as srv:
        srv.respond = chat_responder("zhipu", ["a", "b", "c"])
        model = build_chat_model(_config("zhipu", srv, "/api/paas/v4/"))

        async def collect():
            return [c.content async for c in model.astream(MESSAGES)]

        assert "".join(asyncio.run(collect())) == "abc"


@pytest.mark.parametrize(("provider", "prefix"), REMOTE)
def test_401_says_the_key_was_rejected_without_showing_it(provider, prefix):
    with FakeChatServer(provider) as srv:
        srv.respond = error_responder(provider, 401, f"Incorrect API key provided: {KEY}")
        config = _config(provider, srv, prefix)
        err = _fail(build_chat_model(config), config)
    assert err.message == f"{LABELS[provider]} rejected the API key (HTTP 401)"
    assert err.status_code == 401
    assert len(srv.requests) == 1  # auth errors are not retried


@pytest.mark.parametrize(("provider", "prefix"), REMOTE)
def test_429_is_retried_then_explained(provider, prefix):
    with FakeChatServer(provider) as srv:
        srv.respond = error_responder(provider, 429, "Rate limit reached")
        config = _config(provider, srv, prefix)
        err = _fail(build_chat_model(config), config)
    assert len(srv.requests) == 3  # first try + max_retries=2
    assert err.message == f"{LABELS[provider]} rate limit hit (HTTP 429) after 2 retries"
    assert err.detail == "Rate limit reached"


def test_429_then_success_recovers():
    limited, ok = error_responder("openai", 429, "slow down"), chat_responder("openai", ["fine"])
    with FakeChatServer("openai") as srv:
        srv.respond = lambda req: limited(req) if len(srv.requests) == 1 else ok(req)
        assert build_chat_model(_config("openai", srv, "/v1")).invoke(MESSAGES).content == "fine"
    assert len(srv.requests) == 2


@pytest.mark.parametrize(("provider", "prefix"), [("qianfan", "/v2"), ("vllm", "/v1")])
def test_500_is_retried_then_explained(provider, prefix):
    with FakeChatServer(provider) as srv:
        srv.respond = error_responder(provider, 500, "internal error")
        config = _config(provider, srv, prefix, max_retries=1)
        err = _fail(build_chat_model(config), config, stream=True)
    assert len(srv.requests) == 2
    assert err.message == f"{LABELS[provider]} server error (HTTP 500) after 1 retry"


def test_400_carries_the_server_reason():
    with FakeChatServer("vllm") as srv:
        srv.respond = error_responder(
            "vllm", 400, "This model's maximum context length is 4096 tokens"
        )
        config = _config("vllm", srv, "/v1")
        err = _fail(build_chat_model(config), config)
    assert err.message.startswith("vLLM server rejected the request (HTTP 400): ")
    assert "maximum context length is 4096" in err.message


def test_404_names_the_model():
    with FakeChatServer("vllm") as srv:
        srv.respond = error_responder("vllm", 404, "The model `served-model` does not exist.")
        config = _config("vllm", srv, "/v1")
        err = _fail(build_chat_model(config), config)
    assert "does not know model 'served-model'" in err.message and "(HTTP 404)" in err.message


@pytest.mark.parametrize(("provider", "prefix"), [("openai", "/v1"), ("zhipu", "/api/paas/v4/")])
def test_malformed_stream_is_explained(provider, prefix):
    with FakeChatServer(provider) as srv:
        srv.respond = lambda req: Reply(
            sse=['data: {"id": "x", "choices": [{"delta": {"content": "Hi"', "data: [DONE]"]
        )
        config = _config(provider, srv, prefix)
        err = _fail(build_chat_model(config), config, stream=True)
    assert err.message == f"{LABELS[provider]} sent a malformed response (not valid JSON)"


def test_stream_cut_off_midway_is_explained():
    with FakeChatServer("openai_compatible") as srv:
        lines = stream_lines("openai_compatible", "m", ["partial ", "answer"])[:1]
        # body ends early
        srv.respond = lambda req: Reply(sse=lines, headers={"Content-Length": "100000"})
        config = _config("openai_compatible", srv, "/v1", max_retries=0)
        err = _fail(build_chat_model(config), config, stream=True)
    assert (
        err.message
        == f"OpenAI-compatible server at {srv.url}/v1 closed the connection mid-response"
    )


def test_unreachable_server_is_named():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = LLMConfig(
        provider="vllm", model="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0
    )
    with pytest.raises(Exception) as info:
        build_chat_model(config).invoke(MESSAGES)
    assert (
        explain_error(info.value, config).message
        == f"vLLM server at http://127.0.0.1:{port}/v1 is not reachable"
    )


def test_timeout_is_explained():
    with FakeChatServer("openai_compatible") as srv:
        srv.respond = lambda req: Reply(body={}, delay_s=1.5)
        config = _config("openai_compatible", srv, "/v1", timeout_s=0.3, max_retries=0)
        start = time.monotonic()
        err = _fail(build_chat_model(config), config)
    assert time.monotonic() - start < 1.4
    assert err.message == f"OpenAI-compatible server at {srv.url}/v1 did not answer within 0.3 s"


def test_spark_http_200_error_code_is_explained():
    with FakeChatServer("spark") as srv:
        srv.respond = lambda req: Reply(
            body={
                "code": 11200,
                "message": "AppIdNoAuthError:(11200)auth check failed",
                "sid": "cha0001",
            }
        )
        config = _config("spark", srv, "/v1")
        err = _fail(build_chat_model(config), config)
    assert (
        err.message
        == "Spark rejected the API password, or the model is not enabled for it (code 11200)"
    )
    assert "auth check failed" in err.detail


def test_spark_error_code_inside_stream_is_explained():
    with FakeChatServer("spark") as srv:
        srv.respond = lambda req: Reply(
            sse=['data:{"code":10013,"message":"input content is risky","sid":"cha0002"}']
        )
        config = _config("spark", srv, "/v1")
        err = _fail(build_chat_model(config), config, stream=True)
    assert err.message == "Spark refused the question: it failed content review (code 10013)"


def test_spark_unknown_code_keeps_server_text():
    with FakeChatServer("spark") as srv:
        srv.respond = lambda req: Reply(
            body={"code": 12345, "message": "something odd", "sid": "c"}
        )
        config = _config("spark", srv, "/v1")
        err = _fail(build_chat_model(config), config)
    assert err.message == "Spark returned error code 12345: something odd"


def test_config_errors_are_clear():
    with pytest.raises(LLMBackendError, match="needs base_url"):
        build_chat_model(
            LLMConfig(provider="openai_compatible", model="deepseek-chat", api_key=KEY)
        )
    with pytest.raises(LLMBackendError, match="needs a model name"):
        build_chat_model(LLMConfig(provider="vllm"))
    with pytest.raises(LLMBackendError, match="Zhipu needs an API key"):
        build_chat_model(LLMConfig(provider="zhipu"))
    with pytest.raises(LLMBackendError, match="Unknown LLM provider 'nope'"):
        build_chat_model(LLMConfig(provider="nope"))  # type: ignore[arg-type]
    with pytest.raises(LLMBackendError, match="needs models_dir"):
        build_chat_model(LLMConfig(provider="local"))
    with pytest.raises(
        LLMBackendError, match="Unknown local model 'nope'; expected one of: qwen2.5-coder-1.5b"
    ):
        build_chat_model(LLMConfig(provider="local", model="nope", models_dir="/tmp"))


def test_describe_resolves_defaults_without_secrets():
    assert describe(LLMConfig(provider="zhipu", api_key=KEY)) == {
        "provider": "zhipu",
        "model": "glm-4-flash",
        "base_url": "https://open.bigmodel.cn/api/paas/v4/",
    }
    assert (
        describe(LLMConfig(provider="qianfan", api_key=KEY))["base_url"]
        == "https://qianfan.baidubce.com/v2"
    )
    assert describe(LLMConfig(provider="spark", api_key=KEY))["model"] == "lite"
    assert describe(LLMConfig(provider="openai", api_key=KEY))["model"] == "gpt-4o-mini"
    assert (
        describe(LLMConfig(provider="vllm", base_url="http://u:pw@h:8000/v1?k=1"))["base_url"]
        == "http://h:8000/v1"
    )
    assert describe(LLMConfig())["model"] == "qwen2.5-coder-1.5b"
    assert describe(LLMConfig(model="gemma-3-270m"))["model"] == "gemma-3-270m"
    assert describe(LLMConfig(model_path="/m/own.gguf"))["model"] == "own.gguf"
    assert KEY not in repr(LLMConfig(provider="openai", api_key=KEY))


def test_placeholder_key_for_keyless_servers():
    with FakeChatServer("vllm") as srv:
        srv.respond = chat_responder("vllm", ["x"])
        build_chat_model(LLMConfig(provider="vllm", model="m", base_url=srv.url + "/v1")).invoke(
            MESSAGES
        )
    assert srv.requests[0].headers["authorization"] == "Bearer EMPTY"


def test_import_is_light():
    import subprocess
    import sys

    code = (
        "import sys, llm_backends; print('llama_cpp' in sys.modules, 'langchain_openai' in"
        " sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
