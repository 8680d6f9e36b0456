"""The real local model: llama-cpp-python running the packaged Gemma 3 270M GGUF.

The model is a tiny base model: these tests assert only what it does reliably
(an answer line that carries the fact when the context states it plainly).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (it compiles from source on install)")

from llm_backends import LLMConfig, build_chat_model  # noqa: E402
from llm_backends.local import ensure_packaged_gguf, render_completion_prompt  # noqa: E402
from prompts import answer_messages  # noqa: E402

ZH_BLOCKS = [
    {"n": 1, "source": "员工手册.pdf", "page": 3, "text": "正式员工每年享有十五天带薪年假。"},
    {"n": 2, "source": "报销制度.md", "text": "差旅费用需在出差结束后三十天内提交报销。"},
]
EN_BLOCKS = [
    {"n": 1, "source": "history.md", "text": "The company was founded in 1998 by Alice Zhang in Shanghai."},
    {"n": 2, "source": "office.md", "text": "The main office is in Beijing."},
]


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def local_model(models_dir):
    model = build_chat_model(LLMConfig(models_dir=str(models_dir), max_tokens=64))
    start = time.monotonic()
    model.invoke(answer_messages("What is 1+1?", [{"text": "1+1 equals 2."}]))  # assemble + load + first answer
    print(f"\nlocal model: assemble+load+first answer {time.monotonic() - start:.1f} s")
    return model


def test_packaged_gguf_is_assembled_once(local_model, models_dir):
    path = ensure_packaged_gguf(str(models_dir))
    assert path.parent == models_dir and path.stat().st_size > 200_000_000
    mtime = path.stat().st_mtime_ns
    assert ensure_packaged_gguf(str(models_dir)) == path and path.stat().st_mtime_ns == mtime
    assert [p.name for p in models_dir.iterdir()] == [path.name]  # no partial files left behind


def test_prompt_is_plain_completion_text():
    prompt = render_completion_prompt(answer_messages("报销需要在多少天内提交？", ZH_BLOCKS))
    assert prompt.endswith("\n问：报销需要在多少天内提交？\n答：")
    assert "<start_of_turn>" not in prompt and "<bos>" not in prompt


def test_chinese_answer_from_context(local_model):
    answer = local_model.invoke(answer_messages("报销需要在多少天内提交？", ZH_BLOCKS)).content
    assert answer and "\n" not in answer
    assert "三十" in answer or "30" in answer


def test_english_answer_from_context(local_model):
    answer = local_model.invoke(answer_messages("Who founded the company?", EN_BLOCKS)).content
    assert answer and "\n" not in answer
    assert "Alice" in answer or "1998" in answer


def test_streaming_yields_several_chunks(local_model):
    chunks = [c.content for c in local_model.stream(answer_messages("北京是哪个国家的首都？", [
        {"n": 1, "source": "geo.txt", "text": "北京是中华人民共和国的首都，位于华北平原。"}]))]
    text = "".join(chunks)
    assert len([c for c in chunks if c]) >= 3
    assert not text.startswith((" ", "\n")) and "\n" not in text
    assert "中华人民共和国" in text or "中国" in text


def test_astream_and_concurrent_calls(local_model):
    messages = answer_messages("Who founded the company?", EN_BLOCKS)

    async def collect():
        return "".join([c.content async for c in local_model.astream(messages)])

    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(local_model.invoke(messages).content))
    worker.start()  # runs alongside the async stream: the lock must serialise them
    results.append(asyncio.run(collect()))
    worker.join(timeout=120)
    assert len(results) == 2 and all(results)


def test_long_context_is_truncated_but_keeps_the_question(models_dir):
    model = build_chat_model(LLMConfig(models_dir=str(models_dir), n_ctx=512, max_tokens=32))
    filler = [{"n": i, "source": f"doc{i}.txt", "text": "这是一段与问题无关的填充文字，用来把提示撑得很长。" * 6} for i in range(2, 40)]
    messages = answer_messages("报销需要在多少天内提交？", [{**ZH_BLOCKS[1], "n": 1}, *filler])
    with model._lock:
        llama = model._load()
        prompt, max_new = model._fit_prompt(llama, render_completion_prompt(messages))
    assert len(llama.tokenize(prompt.encode("utf-8"))) + max_new <= 512
    assert prompt.endswith("\n问：报销需要在多少天内提交？\n答：")
    assert "[1] (报销制度.md)" in prompt and "[39]" not in prompt
    assert model.invoke(messages).content  # no context-overflow error


def test_invalid_gguf_gives_a_clear_error(tmp_path):
    from llm_backends import LLMBackendError, explain_error

    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file" * 100)
    config = LLMConfig(model_path=str(bad))
    with pytest.raises(LLMBackendError) as info:
        build_chat_model(config).invoke("hi")
    assert explain_error(info.value, config).message == f"Local model file {bad} could not be loaded (is it a valid GGUF?)"
    with pytest.raises(LLMBackendError, match="was not found"):
        build_chat_model(LLMConfig(model_path=str(tmp_path / "missing.gguf")))
