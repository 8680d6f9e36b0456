"""The real local engine: llama-cpp-python over the packaged GGUF models.

Fast tests use the small Gemma 3 270M base model and assert only properties of its answers that
hold whatever kernels llama.cpp runs on (non-empty, one line, drawn from the sources: a citation
or words copied from them), never its exact words: those change between an AVX2 and an AVX-512
build. Where an answer's content matters, the packaged default model (Qwen2.5-Coder 1.5B)
answers, here and in test_answers_e2e.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time

import pytest

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed (it compiles from source on install)"
)

from llm_backends import (  # noqa: E402
    LLMBackendError,
    LLMConfig,
    build_chat_model,
    build_local_engine,
    local_models,  # noqa: E402
)
from llm_backends.local import LocalChatModel  # noqa: E402
from llm_backends.local_engine import render_completion_prompt  # noqa: E402
from prompts import answer_messages  # noqa: E402

ZH_BLOCKS = [
    {"n": 1, "source": "员工手册.pdf", "page": 3, "text": "正式员工每年享有十五天带薪年假。"},
    {"n": 2, "source": "报销制度.md", "text": "差旅费用需在出差结束后三十天内提交报销。"},
]
EN_BLOCKS = [
    {
        "n": 1,
        "source": "history.md",
        "text": "The company was founded in 1998 by Alice Zhang in Shanghai.",
    },
    {"n": 2, "source": "office.md", "text": "The main office is in Beijing."},
]
GEMMA = LLMConfig(model="gemma-3-270m", models_dir=os.environ["KB_MODELS_DIR"], max_tokens=64)


def draws_on_the_sources(answer: str, question: str, blocks: list[dict]) -> bool:
    """The answer cites one of the sources ([n]) or copies words of theirs that the question does
    not hold (two CJK characters, or an English word of four letters or more)."""
    if any(f"[{b['n']}]" in answer for b in blocks):
        return True
    text = " ".join(b["text"] for b in blocks).casefold()
    pairs = {
        a[i : i + 2] for a in re.findall(r"[\u3400-\u9fff]+", answer) for i in range(len(a) - 1)
    }
    words = {w.casefold() for w in re.findall(r"[A-Za-z]{4,}", answer)}
    copied = {p for p in pairs | words if p in text and p not in question.casefold()}
    return bool(copied)


@pytest.fixture(scope="session")
def gemma_engine():
    engine = build_local_engine(GEMMA)
    start = time.monotonic()
    engine.load()
    print(f"\ngemma: assemble+load {time.monotonic() - start:.1f} s")
    return engine


@pytest.fixture(scope="session")
def local_model(gemma_engine):
    return build_chat_model(GEMMA, gemma_engine)


def test_packaged_gguf_is_assembled_once(tmp_path):
    path = local_models.ensure_model_file("gemma-3-270m", tmp_path)
    assert path.parent == tmp_path and path.stat().st_size > 200_000_000
    mtime = path.stat().st_mtime_ns
    assert (
        local_models.ensure_model_file("gemma-3-270m", tmp_path) == path
        and path.stat().st_mtime_ns == mtime
    )
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial files left behind


def test_parts_are_joined_in_order_with_progress_and_checksum(tmp_path, monkeypatch):
    import hashlib

    parts = []
    for n, data in enumerate([b"GGUF", b"-middle-", b"end"], 1):
        parts.append(tmp_path / f"part{n:02d}.bin")
        parts[-1].write_bytes(data)
    monkeypatch.setattr(local_models, "qwen_part_paths", lambda: parts)
    whole = b"GGUF-middle-end"
    good = local_models.LocalModelSpec(
        "qwen2.5-coder-1.5b",
        "q.gguf",
        "Q",
        chat=True,
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )
    monkeypatch.setitem(local_models.LOCAL_MODELS, "qwen2.5-coder-1.5b", good)
    seen = []
    out = tmp_path / "models"
    path = local_models.ensure_model_file(
        "qwen2.5-coder-1.5b", out, progress=lambda d, t: seen.append((d, t))
    )
    assert path.read_bytes() == whole and seen[-1] == (len(whole), len(whole))

    bad = local_models.LocalModelSpec(
        "qwen2.5-coder-1.5b", "bad.gguf", "Q", chat=True, size=len(whole), sha256="0" * 64
    )
    monkeypatch.setitem(local_models.LOCAL_MODELS, "qwen2.5-coder-1.5b", bad)
    with pytest.raises(LLMBackendError, match="failed its checksum"):
        local_models.ensure_model_file("qwen2.5-coder-1.5b", out)
    # neither bad.gguf nor a partial file
    assert sorted(p.name for p in out.iterdir()) == ["q.gguf"]


def test_tokens_are_counted_by_the_models_own_tokenizer(local_model):
    # no GPT-2 tokenizer fetched (no network): the GGUF's vocabulary
    assert local_model.get_num_tokens("") == 0
    formulas = local_model.get_num_tokens("ℓ(ϕ)=Σᵢ αᵢ·xᵢᵀ")
    assert formulas > local_model.get_num_tokens("hello") >= 1
    assert local_model.get_token_ids("hello world") == local_model.get_token_ids("hello world")


def test_base_model_prompt_is_plain_completion_text():
    prompt = render_completion_prompt(answer_messages("报销需要在多少天内提交？", ZH_BLOCKS))
    assert prompt.endswith("\n问题：报销需要在多少天内提交？\n答：")
    assert render_completion_prompt(answer_messages("Who?", EN_BLOCKS)).endswith(
        "\nQuestion: Who?\nAnswer:"
    )
    assert "<start_of_turn>" not in prompt and "<bos>" not in prompt


def test_chinese_answer_from_context(local_model):
    question = "报销需要在多少天内提交？"
    answer = local_model.invoke(answer_messages(question, ZH_BLOCKS)).content
    assert answer and "\n" not in answer
    assert draws_on_the_sources(answer, question, ZH_BLOCKS), answer


def test_english_answer_from_context(local_model):
    question = "Who founded the company?"
    answer = local_model.invoke(answer_messages(question, EN_BLOCKS)).content
    assert answer and "\n" not in answer
    assert draws_on_the_sources(answer, question, EN_BLOCKS), answer


def test_the_default_model_answers_with_the_stated_fact():
    """Content, from the packaged default model: the fact the right source states."""
    config = LLMConfig(model="qwen2.5-coder-1.5b", models_dir=os.environ["KB_MODELS_DIR"])
    model = build_chat_model(config, build_local_engine(config))
    answer = model.invoke(answer_messages("报销需要在多少天内提交？", ZH_BLOCKS)).content
    assert "三十" in answer or "30" in answer, answer
    answer = model.invoke(answer_messages("Who founded the company?", EN_BLOCKS)).content
    assert "Alice" in answer, answer


def test_streaming_yields_several_chunks_and_usage_last(local_model):
    chunks = list(
        local_model.stream(
            answer_messages(
                "北京是哪个国家的首都？",
                [
                    {
                        "n": 1,
                        "source": "geo.txt",
                        "text": "北京是中华人民共和国的首都，位于华北平原。",
                    }
                ],
            )
        )
    )
    text = "".join(c.content for c in chunks)
    assert len([c for c in chunks if c.content]) >= 3
    assert not text.startswith((" ", "\n")) and "\n" not in text
    with_usage = [c for c in chunks if c.usage_metadata]
    assert len(with_usage) == 1
    assert with_usage[0].response_metadata["finish_reason"] in ("stop", "length")
    assert (
        with_usage[0].usage_metadata["input_tokens"] > 20
        and with_usage[0].usage_metadata["output_tokens"] >= 1
    )


def test_one_engine_serves_every_temperature(gemma_engine, local_model):
    messages = answer_messages("Who founded the company?", EN_BLOCKS)
    llama = gemma_engine.load()
    warm = build_chat_model(LLMConfig(**{**GEMMA.__dict__, "temperature": 0.9}), gemma_engine)
    assert warm.invoke(messages, max_tokens=8).content and gemma_engine.load() is llama
    assert local_model.invoke(messages, temperature=0.7).content and gemma_engine.load() is llama


def test_a_side_context_step_leaves_the_answer_prompt_read(gemma_engine, local_model):
    """A step asked with ``side_context=True`` (a follow-up's rewrite) runs in the second context:
    the answer context keeps the tokens it has read, so the next answer reads only what is new.
    Without it, the step replaces them."""
    llama = gemma_engine.load()
    local_model.invoke(answer_messages("年假有几天？", ZH_BLOCKS, "zh"), max_tokens=4)
    read = list(llama._input_ids)
    other = answer_messages("Who founded the company?", EN_BLOCKS, "en")
    assert local_model.invoke(other, max_tokens=4, side_context=True).content.strip()
    assert list(llama._input_ids) == read
    assert gemma_engine.side_context().n_tokens > 0
    local_model.invoke(other, max_tokens=4)
    assert list(llama._input_ids)[: len(read)] != read


def test_astream_and_concurrent_calls(local_model):
    messages = answer_messages("Who founded the company?", EN_BLOCKS)

    async def collect():
        return "".join([c.content async for c in local_model.astream(messages)])

    results: list[str] = []
    worker = threading.Thread(target=lambda: results.append(local_model.invoke(messages).content))
    worker.start()  # runs alongside the async stream: the engine lock must serialise them
    results.append(asyncio.run(collect()))
    worker.join(timeout=120)
    assert len(results) == 2 and all(results)


def test_long_context_is_cut_but_keeps_the_question():
    config = LLMConfig(**{**GEMMA.__dict__, "n_ctx": 512, "max_tokens": 32})
    engine = build_local_engine(config)
    model = build_chat_model(config, engine)
    filler = [
        {
            "n": i,
            "source": f"doc{i}.txt",
            "text": "这是一段与问题无关的填充文字，用来把提示撑得很长。" * 6,
        }
        for i in range(2, 40)
    ]
    messages = answer_messages("报销需要在多少天内提交？", [{**ZH_BLOCKS[1], "n": 1}, *filler])
    from llm_backends.local import _as_dict

    tokens, _, _ = model._fit(engine, [_as_dict(m) for m in messages], 32, engine.load().n_ctx())
    prompt = engine.load().detokenize(tokens).decode("utf-8", errors="ignore")
    assert len(tokens) + 32 <= 512
    assert prompt.endswith("\n问题：报销需要在多少天内提交？\n答：")
    assert "[1] (报销制度.md)" in prompt and "[39]" not in prompt
    assert model.invoke(messages).content  # no context-overflow error


def test_invalid_gguf_gives_a_clear_error(tmp_path):
    from llm_backends import explain_error

    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file" * 100)
    config = LLMConfig(model_path=str(bad))
    with pytest.raises(LLMBackendError) as info:
        build_chat_model(config).invoke("hi")
    assert (
        explain_error(info.value, config).message
        == f"Local model file {bad} could not be loaded (is it a valid GGUF?)"
    )
    with pytest.raises(LLMBackendError, match="was not found"):
        build_chat_model(LLMConfig(model_path=str(tmp_path / "missing.gguf")))


def test_model_from_a_path_alone_builds_its_own_engine(gemma_engine):
    model = LocalChatModel(
        model_path=str(local_models.ensure_model_file("gemma-3-270m", os.environ["KB_MODELS_DIR"])),
        max_tokens=8,
    )
    assert model._get_ls_params()["ls_model_name"] == "gemma-3-270m-q4_k_m.gguf"
    assert model.invoke("1 + 1 =").content


def test_prompt_lookup_decoding_answers_a_prompt_longer_than_a_batch():
    """With a draft model llama-cpp-python keeps every prompt token's logits; a prompt past its
    512-token batch once overflowed that buffer (fixed by asking for logits_all)."""
    config = LLMConfig(
        **{**GEMMA.__dict__, "n_ctx": 1024, "max_tokens": 16, "prompt_lookup_tokens": 4}
    )
    model = build_chat_model(config, build_local_engine(config))
    filler = [
        {"n": i, "source": f"doc{i}.txt", "text": "这是一段与问题无关的填充文字。" * 8}
        for i in range(2, 10)
    ]
    messages = answer_messages("报销需要在多少天内提交？", [{**ZH_BLOCKS[1], "n": 1}, *filler])
    reply = model.invoke(messages)
    assert reply.usage_metadata["input_tokens"] > 512 and reply.content
