"""Routes get their operations through FastAPI's ``Depends``: a test swaps the answer service with
``app.dependency_overrides`` (as private-gpt's tests swap components) and drives /ask over real
HTTP."""

import json

import httpx

from answering import Answer, Citation, Done, Failed, Reading, Sources, Token
from app.operations import TurnStream
from app.settings import Settings
from tests.servers import parse_sse, running_server

CITATION = Citation(1, "handbook.pdf", 3, "年假十五天。", 0.91, "doc-1")


class ScriptedAnswers:
    """Stands in for app.operations.AnswerService: records what the route passed, answers from a
    script."""

    def __init__(self, fail_stream: bool = False):
        self.calls, self.fail_stream = [], fail_stream

    def _answer(self, question: str) -> Answer:
        return Answer(
            f"scripted: {question} [1]",
            [CITATION],
            {"retrieve_ms": 1.0, "first_token_ms": 2.0, "generate_ms": 3.0, "total_ms": 4.0},
            "fake:model",
        )

    def ask(self, question, history, options):
        self.calls.append((question, history, options))
        return self._answer(question)

    def stream(self, question, history, options):
        self.calls.append((question, history, options))
        if self.fail_stream:
            script = [Reading(1), Token("半"), Failed("the model server stopped answering")]
            return TurnStream(None, lambda: iter(script))
        answer = self._answer(question)
        return TurnStream(
            None,
            lambda: iter(
                [
                    Reading(1),
                    Token("scripted: "),
                    Token(f"{question} [1]"),
                    Sources([CITATION]),
                    Done(answer),
                ]
            ),
        )


def sse(client, body) -> list[tuple[str, object]]:
    reply = client.post("/ask", json={**body, "stream": True})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith(
        "text/event-stream"
    )
    return [(name, json.loads(data)) for name, data in parse_sse(reply.text)]


def test_answer_service_swapped_through_dependency_overrides(tmp_path):
    from app.web import create_app
    from app.web.deps import answers

    (tmp_path / "seed").mkdir()
    app = create_app(
        Settings(
            data_dir=tmp_path / "data",
            seed_dir=tmp_path / "seed",
            preload_model=False,
            _env_file=None,
        ),
        with_ui=False,
    )
    scripted = ScriptedAnswers()
    app.dependency_overrides[answers] = lambda: scripted
    with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        body = {
            "kb": "anything",
            "question": "年假几天？",
            "k": 3,
            "history": [
                {"role": "user", "content": "你好"},
                {"role": "assistant", "content": "你好！"},
            ],
        }
        reply = client.post("/ask", json=body)
        assert reply.status_code == 200, reply.text
        assert reply.json()["answer"] == "scripted: 年假几天？ [1]"
        assert reply.json()["citations"] == [
            {
                "n": 1,
                "source": "handbook.pdf",
                "page": 3,
                "text": "年假十五天。",
                "score": 0.91,
                "doc_id": "doc-1",
                "chunk_id": "",
                "support": "",
            }
        ]
        question, history, options = scripted.calls[-1]
        assert (
            question == "年假几天？"
            and len(history) == 2
            and options.kb == "anything"
            and options.k == 3
        )

        events = sse(client, body)
        tokens = "".join(data["text"] for name, data in events if name == "token")
        assert tokens == "scripted: 年假几天？ [1]"
        assert [name for name, _ in events][-2:] == ["citations", "done"]

        app.dependency_overrides[answers] = lambda: ScriptedAnswers(fail_stream=True)
        events = sse(client, body)
        assert events[-1] == ("error", {"detail": "the model server stopped answering"})

        # the real service again: an unknown knowledge base is a 404
        app.dependency_overrides.clear()
        assert client.post("/ask", json=body).status_code == 404


def test_openai_route_passes_system_messages_and_answer_length(tmp_path):
    import openai

    from app.web import create_app
    from app.web.deps import answers

    (tmp_path / "seed").mkdir()
    app = create_app(
        Settings(
            data_dir=tmp_path / "data",
            seed_dir=tmp_path / "seed",
            preload_model=False,
            _env_file=None,
        ),
        with_ui=False,
    )
    scripted = ScriptedAnswers()
    app.dependency_overrides[answers] = lambda: scripted
    with running_server(app) as base:
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(
            model="kb",
            max_tokens=40,
            temperature=0.3,
            messages=[
                {"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": "年假几天？"},
            ],
        )
    assert reply.choices[0].message.content == "scripted: 年假几天？ [1]"
    question, history, options = scripted.calls[-1]
    assert options.instructions == "Answer in one sentence." and options.max_tokens == 40
    assert options.temperature == 0.3 and options.kb == "kb" and history == []
