"""The REST API against a real uvicorn server on 127.0.0.1, with the real store, embeddings and
local LLM."""

import json
import threading
import time

import httpx
import pytest

from app.settings import Settings
from tests.servers import parse_sse, running_server, seeded_settings, wait_job, wait_seeded

GUIDE = (
    "# 星河手册\n\n星河科技的正式员工每年有十五天带薪年假。\n\n##"
    " 报销\n\n差旅报销需要在出差结束后三十天内提交。\n"
)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from app.web import create_app

    settings = seeded_settings(tmp_path_factory.mktemp("api"), GUIDE, max_upload_mb=1)
    with running_server(create_app(settings, with_ui=False)) as base:
        with httpx.Client(base_url=base, timeout=120) as client:
            wait_seeded(client)
            yield client


def test_health(api):
    body = api.get("/health").json()
    assert body["status"] == "ok" and body["version"] and body["store"] == "ok"
    assert body["llm"]["provider"] == "local" and body["llm"]["model"]
    assert "e5" in body["embedding"]["model"]


def test_health_says_when_the_preloaded_model_is_ready(api):
    """The server loads the local model in the background at start-up: no question needed."""
    deadline, states = time.monotonic() + 120, []
    while time.monotonic() < deadline:
        llm = api.get("/health").json()["llm"]
        states.append(llm["state"])
        if llm["ready"]:
            break
        time.sleep(0.2)
    assert llm["ready"] and llm["state"] == "ready", states
    assert set(states) <= {"loading", "ready"}  # loading began with the server, not with a question


def test_kb_lifecycle_and_names(api):
    assert api.post("/kbs", json={"name": "测试"}).status_code == 201
    assert api.post("/kbs", json={"name": "测试"}).status_code == 409
    assert api.post("/kbs", json={"name": "x"}).status_code == 201  # short names are fine
    for bad in ["a/b", "tab\tname", "n" * 65, ""]:
        assert api.post("/kbs", json={"name": bad}).status_code == 422, bad
    names = {k["name"] for k in api.get("/kbs").json()}
    assert {"测试", "x", "guide"} <= names
    assert api.delete("/kbs/x").status_code == 204
    assert api.delete("/kbs/x").status_code == 404
    assert api.get("/kbs/nope/documents").status_code == 404


def test_upload_job_documents_and_delete(api, tmp_path):
    api.post("/kbs", json={"name": "uploads"})
    files = [
        ("files", ("notes.txt", "量子比特是量子计算的基本单位。".encode(), "text/plain")),
        (
            "files",
            ("../../evil.md", "# 标题\n\n路径穿越的文件名会被清理。".encode(), "text/markdown"),
        ),
        ("files", ("empty.txt", b"", "text/plain")),
    ]
    accepted = api.post("/kbs/uploads/documents", files=files)
    assert accepted.status_code == 202
    job = wait_job(api, accepted.json()["job_id"])
    status = {f["source"]: f for f in job["files"]}
    assert job["progress"] == 1.0
    assert status["notes.txt"]["status"] == "indexed"
    assert status["evil.md"]["status"] == "indexed"  # the name was reduced to its last component
    assert status["empty.txt"]["status"] == "failed" and "empty" in status["empty.txt"]["error"]

    again = wait_job(api, api.post("/kbs/uploads/documents", files=files[:1]).json()["job_id"])
    assert again["files"][0]["status"] == "duplicate"

    docs = {d["source"]: d for d in api.get("/kbs/uploads/documents").json()}
    assert docs["notes.txt"]["chunks"] == 1 and docs["notes.txt"]["status"] == "indexed"
    assert docs["empty.txt"]["status"] == "failed"
    assert api.delete(f"/kbs/uploads/documents/{docs['notes.txt']['doc_id']}").status_code == 204
    assert api.delete(f"/kbs/uploads/documents/{docs['notes.txt']['doc_id']}").status_code == 404
    assert "notes.txt" not in {d["source"] for d in api.get("/kbs/uploads/documents").json()}


def test_upload_rejections(api):
    api.post("/kbs", json={"name": "rejects"})
    big = ("files", ("big.txt", b"a" * (1024 * 1024 + 10), "text/plain"))
    assert api.post("/kbs/rejects/documents", files=[big]).status_code == 413
    exe = ("files", ("tool.exe", b"MZ", "application/octet-stream"))
    r = api.post("/kbs/rejects/documents", files=[exe])
    assert r.status_code == 415 and "tool.exe" in r.json()["detail"]
    # a mixed batch: each file judged alone, the refused ones listed with their reason, the rest
    # indexed
    ok = ("files", ("ok.txt", "年假有十五天。".encode(), "text/plain"))
    r = api.post("/kbs/rejects/documents", files=[exe, big, ok])
    assert r.status_code == 202, r.text
    refused = {f["source"]: f["reason"] for f in r.json()["refused"]}
    assert "unsupported file type" in refused["tool.exe"] and "upload limit" in refused["big.txt"]
    wait_job(api, r.json()["job_id"])
    assert [d["source"] for d in api.get("/kbs/rejects/documents").json()] == ["ok.txt"]
    assert (
        api.post(
            "/kbs/nope/documents", files=[("files", ("a.txt", b"x", "text/plain"))]
        ).status_code
        == 404
    )
    assert api.post("/kbs/rejects/documents").status_code == 422
    assert api.get("/jobs/does-not-exist").status_code == 404


def test_search(api):
    body = api.post("/search", json={"kb": "guide", "query": "年假有多少天", "k": 3}).json()
    assert body["hits"][0]["source"] == "handbook.md"
    assert set(body["hits"][0]) >= {"text", "score", "source", "page", "doc_id"}
    assert api.post("/search", json={"kb": "nope", "query": "x"}).status_code == 404
    assert api.post("/search", json={"kb": "guide", "query": "x", "k": 0}).status_code == 422
    assert api.post("/search", json={"kb": "guide"}).status_code == 422
    assert (
        api.post(
            "/search", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )
    assert api.post("/search", json={"kb": "guide", "query": "长" * 5000}).status_code == 422


def test_ask_answers_with_citations(api):
    r = api.post(
        "/ask", json={"kb": "guide", "question": "星河科技的正式员工每年有多少天带薪年假？"}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["answer"].strip()
    assert body["citations"] and body["citations"][0]["source"] == "handbook.md"
    assert body["citations"][0]["n"] == 1 and "年假" in body["citations"][0]["text"]
    assert set(body["timings"]) == {"retrieve_ms", "first_token_ms", "generate_ms", "total_ms"}
    assert body["model"].startswith("local:")


def test_ask_outside_the_knowledge_base_says_so(api):
    body = api.post(
        "/ask", json={"kb": "guide", "question": "What is the capital of France?"}
    ).json()
    assert body["citations"] == []
    assert "does not contain" in body["answer"]
    assert body["timings"]["generate_ms"] == 0


def test_ask_stream_sse(api):
    with api.stream(
        "POST",
        "/ask",
        json={"kb": "guide", "question": "差旅报销要在多少天内提交？", "stream": True},
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(r.read().decode())
    kinds = [e for e, _ in events]
    assert kinds.count("token") >= 1 and kinds[-2:] == ["citations", "done"]
    assert kinds.index("citations") > max(i for i, k in enumerate(kinds) if k == "token")
    citations = json.loads(events[-2][1])
    assert citations[0]["source"] == "handbook.md"
    assert set(json.loads(events[-1][1])["timings"]) >= {"total_ms", "first_token_ms"}


def test_ask_validation(api):
    assert api.post("/ask", json={"kb": "nope", "question": "x"}).status_code == 404
    assert api.post("/ask", json={"kb": "guide", "question": ""}).status_code == 422
    assert api.post("/ask", json={"kb": "guide", "question": "q" * 2001}).status_code == 422
    assert (
        api.post(
            "/ask",
            json={"kb": "guide", "question": "q", "history": [{"role": "system", "content": "x"}]},
        ).status_code
        == 422
    )
    assert api.post("/ask", json={"kb": "guide", "question": "q", "unknown": 1}).status_code == 422


def test_event_loop_not_blocked_by_generation(api):
    """/health answers while an answer is being generated in another request."""
    done = threading.Event()

    def slow_ask():
        api.post(
            "/ask", json={"kb": "guide", "question": "年假和报销的规定分别是什么？请详细说明。"}
        )
        done.set()

    worker = threading.Thread(target=slow_ask)
    worker.start()
    time.sleep(0.3)
    with httpx.Client(base_url=str(api.base_url), timeout=30) as other:
        assert other.get("/health").status_code == 200
        assert other.post("/search", json={"kb": "guide", "query": "年假"}).status_code == 200
    worker.join(300)


def test_openai_compatible_route_with_official_client(api):
    from openai import OpenAI

    client = OpenAI(base_url=str(api.base_url) + "/v1", api_key="unused", max_retries=0)
    assert "guide" in [m.id for m in client.models.list().data]
    reply = client.chat.completions.create(
        model="guide",
        messages=[{"role": "user", "content": "星河科技的正式员工每年有多少天带薪年假？"}],
    )
    assert reply.choices[0].message.content.strip()
    assert reply.model_extra["citations"][0]["source"] == "handbook.md"
    assert len(reply.model_extra["answer_id"]) == 32  # what POST /feedback rates
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage.prompt_tokens > 0 and reply.usage.total_tokens > reply.usage.prompt_tokens
    stream = client.chat.completions.create(
        model="guide",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "差旅报销要在多少天内提交？"}],
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert len(pieces) >= 2 and "".join(pieces).strip()
    # the usage chunk comes last
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    last = next(c for c in reversed(chunks) if c.choices)
    assert last.choices[0].finish_reason in ("stop", "length") and last.model_extra["answer_id"]


def test_openai_route_errors_in_openai_shape(api):
    import openai

    client = openai.OpenAI(base_url=str(api.base_url) + "/v1", api_key="unused", max_retries=0)
    question = [{"role": "user", "content": "年假几天？"}]
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-kb", messages=question)
    # names what there is
    assert "no-such-kb" in missing.value.message and "guide" in missing.value.message
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError, match="n > 1"):
        client.chat.completions.create(model="guide", messages=question, n=2)
    with pytest.raises(openai.BadRequestError, match="tools"):
        client.chat.completions.create(
            model="guide",
            messages=question,
            tools=[
                {
                    "type": "function",
                    "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
                }
            ],
        )
    with pytest.raises(openai.BadRequestError, match="last message"):
        client.chat.completions.create(
            model="guide", messages=[{"role": "assistant", "content": "hi"}]
        )
    with pytest.raises(openai.BadRequestError, match="temperature"):
        client.chat.completions.create(model="guide", messages=question, temperature=5)
    assert api.get("/kbs/nope/documents").json() == {
        "detail": "knowledge base 'nope' does not exist"
    }  # REST shape


def test_api_keys_and_dead_backend(tmp_path):
    """With KB_API_KEYS set every route needs a key; an unreachable LLM gives 503 with a message."""
    from app.web import create_app

    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "a.md").write_text(GUIDE, encoding="utf-8")
    settings = Settings(
        data_dir=tmp_path / "data",
        seed_dir=seed,
        api_keys="k1,k2",
        llm_provider="openai_compatible",
        llm_base_url="http://127.0.0.1:9/v1",
        llm_model="m",
        llm_max_retries=0,
        llm_timeout_s=5,
        _env_file=None,
    )
    auth = {"Authorization": "Bearer k2"}
    with running_server(create_app(settings, with_ui=False), headers=auth) as base:
        assert httpx.get(base + "/kbs").status_code == 401
        # a load balancer has no key: it gets up/ready/store/queue/disk, nothing more
        probe = httpx.get(base + "/health")
        assert probe.status_code == 200 and probe.json() == {
            "status": "ok",
            "ready": True,
            "store": "ok",
            "queue": "ok",
            "disk": "ok",
        }
        keyed = httpx.get(base + "/health", headers=auth).json()
        assert keyed["llm"]["provider"] == "openai_compatible"
        assert keyed["limits"] == {
            "max_upload_mb": 50,
            "min_free_mb": 200,
            "job_retention_hours": 168,
        }
        assert keyed["disk_free_mb"] >= 200
        assert httpx.get(base + "/kbs", headers={"Authorization": "Bearer nope"}).status_code == 401
        with httpx.Client(base_url=base, headers=auth, timeout=120) as client:
            wait_seeded(client)
            r = client.post("/ask", json={"kb": "guide", "question": "年假有多少天？"})
            assert r.status_code == 503
            assert "not reachable" in r.json()["detail"] and "k2" not in r.json()["detail"]
            with client.stream(
                "POST", "/ask", json={"kb": "guide", "question": "年假有多少天？", "stream": True}
            ) as s:
                events = parse_sse(s.read().decode())
            assert (
                events[-1][0] == "error" and "not reachable" in json.loads(events[-1][1])["detail"]
            )
