"""The default local model (Qwen2.5-Coder-1.5B-Instruct) answering from the bundled guide, end to
end:
real ingestion, real embeddings, real Chroma, the real answer chain. The answers are checked."""

import pytest

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

from app.operations import AskOptions, Operations  # noqa: E402
from app.settings import REPO_ROOT, Settings  # noqa: E402
from prompts import detect_language  # noqa: E402


@pytest.fixture(scope="module")
def guide(tmp_path_factory):
    from ingest import expand_paths

    ops = Operations.from_settings(
        Settings(
            data_dir=tmp_path_factory.mktemp("e2e"),
            local_model="qwen2.5-coder-1.5b",
            llm_temperature=0.0,
        )
    )
    files = [(p, p.name) for p in expand_paths([REPO_ROOT / "knowledge_base"])]
    stats = ops.knowledge.ingest("guide", files)
    assert [o.status for o in stats.outcomes] == ["indexed", "indexed"], stats.outcomes
    return ops.answers.chain(AskOptions("guide"))


def sources(answer):
    return {c.source for c in answer.citations}


def test_english_question_gets_a_cited_english_answer(guide):
    answer = guide.invoke("Which file formats are supported?")
    text = answer.answer
    assert answer.model == "local:qwen2.5-coder-1.5b"
    assert "PDF" in text and ("Markdown" in text or "docx" in text.lower() or "Word" in text), text
    # not an echo of the question
    assert not text.startswith("Which file formats are supported"), text
    assert detect_language(text) == "en" and "[" in text
    assert "user-guide.md" in sources(answer), answer.citations


def test_chinese_question_gets_a_cited_chinese_answer(guide):
    answer = guide.invoke("如何上传文档？")
    text = answer.answer
    assert detect_language(text) == "zh", text
    assert "上传" in text and ("知识库" in text or "kb ingest" in text), text
    assert "用户指南.md" in sources(answer), answer.citations


def test_follow_up_uses_the_history(guide):
    history = [
        {"role": "user", "content": "How do I upload documents?"},
        {
            "role": "assistant",
            "content": (
                "Choose or create a knowledge base in the web page, then upload "
                "one or more files [1]."
            ),
        },
    ]
    answer = guide.invoke("And how do I delete one again?", history)
    assert "delete" in answer.query.lower() and "document" in answer.query.lower(), answer.query
    assert "kb rm" in answer.answer or "document list" in answer.answer.lower(), answer.answer
    assert any("kb rm" in c.text for c in answer.citations), answer.citations


def test_question_the_guide_does_not_answer_is_refused(guide):
    answer = guide.invoke("How much does a kb-assistant license cost per year?")
    assert not answer.found and answer.citations == [], answer.answer
    assert "does not contain information" in answer.answer, answer.answer


def test_openai_route_follow_up_with_the_official_client(tmp_path):
    """The same default model behind a real server: a three-message conversation through the
    official `openai` client; the follow-up needs the history, and usage is counted."""
    import time

    import httpx
    import openai

    from app.web import create_app
    from tests.servers import running_server

    settings = Settings(
        data_dir=tmp_path, local_model="qwen2.5-coder-1.5b", llm_temperature=0.0, _env_file=None
    )
    with running_server(create_app(settings, with_ui=False)) as base:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # the guide is seeded on first start
            kbs = {k["name"]: k for k in httpx.get(base + "/kbs").json()}
            if kbs.get("guide", {}).get("documents") == 2:
                break
            time.sleep(0.5)
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", timeout=300)
        reply = client.chat.completions.create(
            model="guide",
            temperature=0,
            messages=[
                {"role": "user", "content": "How do I upload documents?"},
                {
                    "role": "assistant",
                    "content": (
                        "In the web page, choose or create a knowledge base, then upload files [1]."
                    ),
                },
                {"role": "user", "content": "And how do I delete one again?"},
            ],
        )
    text = reply.choices[0].message.content
    assert "kb rm" in text or "document list" in text.lower(), text
    assert reply.usage.prompt_tokens > 100 and reply.usage.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
