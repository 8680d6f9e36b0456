"""The MCP door with the official `mcp` client: a real `kb mcp` process over stdio, the same server
at /mcp on a real uvicorn server (with and without an API key), and the errors a client can cause.
"""

import contextlib
import os
import sys
import time
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from app.settings import Settings
from tests.servers import running_server, seeded_settings, wait_seeded

KB = str(Path(sys.executable).parent / "kb")
TOOLS = {
    "search",
    "ask",
    "list_knowledge_bases",
    "list_documents",
    "add_documents",
    "job_status",
    "list_passages",
    "correct_passage",
}
HANDBOOK = (
    "# 星河手册\n\n星河科技的正式员工每年有十五天带薪年假。\n\n## 报销\n\n"
    "差旅报销需要在出差结束后三十天内提交。\n"
)
MANUAL_PAGES = [
    "Orbit 7 router manual. Unpack the router and place it near a window.",
    "Factory reset: hold the red button on the back of the Orbit 7 for twelve seconds.",
]


class Session:
    """An MCP client session held open across tests: the client lives in a portal's event loop
    thread (anyio), each call is made from the test's own thread."""

    def __init__(self, portal, client):
        self.portal, self.client = portal, client

    def call(self, tool: str, **arguments):
        return self.portal.call(self.client.call_tool, tool, arguments)

    def ok(self, tool: str, **arguments) -> dict:
        result = self.call(tool, **arguments)
        assert not result.is_error, result.content[0].text
        return result.structured_content

    def error(self, tool: str, **arguments) -> str:
        result = self.call(tool, **arguments)
        assert result.is_error, result.structured_content
        return result.content[0].text

    def read(self, uri: str) -> str:
        return self.portal.call(self.client.read_resource, uri).contents[0].text

    def tools(self) -> dict:
        return {t.name: t for t in self.portal.call(self.client.list_tools).tools}

    def wait_job(self, job_id: str, timeout_s: float = 300) -> dict:
        deadline = time.monotonic() + timeout_s
        while (job := self.ok("job_status", job_id=job_id))["status"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.3)
        return job


@contextlib.contextmanager
def mcp_session(server):
    """``server``: what the official ``mcp.Client`` connects to (a transport, or a server object
    in-process)."""
    from mcp import Client

    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(server, cache=None)) as client,
    ):
        yield Session(portal, client)


@contextlib.asynccontextmanager
async def http_transport(url: str, headers: dict[str, str]):
    import httpx2  # the SDK's HTTP client; headers go on a client of one's own
    from mcp.client.streamable_http import streamable_http_client

    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300)) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from tests.make_files import FileFactory

    folder = tmp_path_factory.mktemp("corpus")
    files = FileFactory(folder)
    files.text("handbook.md", HANDBOOK)
    files.pdf("manual.pdf", MANUAL_PAGES, fontname="helv")
    files.raw("tool.exe", b"MZ")
    return folder


@pytest.fixture(scope="module")
def stdio(tmp_path_factory):
    """`kb mcp` as an AI client starts it: a real process, its own data dir, stderr to a log."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client

    root = tmp_path_factory.mktemp("stdio")
    env = {**os.environ, "KB_DATA_DIR": str(root / "data")}
    params = StdioServerParameters(command=KB, args=["mcp"], env=env)
    with open(root / "kb-mcp.log", "w") as log, mcp_session(stdio_client(params, errlog=log)) as s:
        yield s


@pytest.fixture(scope="module")
def demo(stdio, corpus):
    """Knowledge base 'demo' built through the door: add_documents, then job_status until done."""
    accepted = stdio.ok("add_documents", kb="demo", paths=[str(corpus)])
    return accepted, stdio.wait_job(accepted["job_id"])


def test_lists_its_tools_with_typed_schemas_and_descriptions(stdio):
    from retrieval import SEARCH_MODES

    tools = stdio.tools()
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert len(tool.description) > 80 and tool.output_schema, tool.name
    search = tools["search"].input_schema
    assert search["required"] == ["query"] and set(search["properties"]) == {
        "query",
        "kb",
        "k",
        "mode",
        "explain",
    }
    assert search["properties"]["mode"]["anyOf"][0]["enum"] == list(SEARCH_MODES)
    assert set(tools["ask"].input_schema["properties"]) == {"question", "kb", "history"}
    assert sorted(tools["add_documents"].input_schema["required"]) == ["kb", "paths"]
    assert tools["search"].annotations.read_only_hint
    assert not tools["add_documents"].annotations.read_only_hint
    templates = stdio.portal.call(stdio.client.list_resource_templates).resource_templates
    assert [t.uri_template for t in templates] == [
        "kb://{kb}/{doc_id}",
        "kb://{kb}/{doc_id}/outline",
    ]


def test_add_documents_runs_a_job_that_job_status_follows(stdio, demo, corpus):
    accepted, job = demo
    assert sorted(accepted["files"]) == ["handbook.md", "manual.pdf"]
    assert accepted["refused"][0]["file"] == "tool.exe"
    assert "unsupported file type" in accepted["refused"][0]["reason"]
    assert job["status"] == "done" and job["progress"] == 1.0
    assert {f["file"]: f["status"] for f in job["files"]} == {
        "handbook.md": "indexed",
        "manual.pdf": "indexed",
    }
    again = stdio.ok("add_documents", kb="demo", paths=[str(corpus / "handbook.md")])
    assert stdio.wait_job(again["job_id"])["files"][0]["status"] == "duplicate"
    kbs = stdio.ok("list_knowledge_bases")["knowledge_bases"]
    assert {"name": "demo", "documents": 2, "chunks": sum(f["chunks"] for f in job["files"])} in kbs
    docs = {d["file"]: d for d in stdio.ok("list_documents", kb="demo")["documents"]}
    assert docs["manual.pdf"]["pages"] == 2 and docs["manual.pdf"]["uri"].startswith("kb://demo/")


def test_search_gives_file_page_score_and_chunk_and_the_page_text(stdio, demo):
    top = stdio.ok("search", query="年假有多少天", kb="demo", k=3)["passages"][0]
    assert top["file"] == "handbook.md" and "十五天" in top["text"]
    assert top["score"] > 0 and top["chunk_id"].startswith(top["doc_id"][:24])
    reset = stdio.ok("search", query="How do I factory reset the router?", kb="demo", k=3)
    hit = reset["passages"][0]
    assert (hit["file"], hit["page"]) == ("manual.pdf", 2)
    text = stdio.read(hit["uri"])  # the cited page's text, through the document's resource
    assert text.startswith("# manual.pdf")
    assert text.index("## Page 1") < text.index("Unpack") < text.index("## Page 2")
    assert text.index("## Page 2") < text.index("twelve seconds")
    listed = stdio.portal.call(stdio.client.list_resources).resources
    assert hit["uri"] in {r.uri for r in listed}


def test_search_with_explain_gives_each_signal_and_the_answer_steps_decision(stdio, demo):
    found = stdio.ok("search", query="年假有多少天", kb="demo", k=3, explain=True)
    signals = found["passages"][0]["signals"]
    assert signals["dense_rank"] >= 1 and signals["fused_score"] > 0
    assert found["decision"]["question_lang"] == "zh" and "reason" in found["decision"]
    assert stdio.ok("search", query="年假有多少天", kb="demo")["passages"][0]["signals"] is None


def test_a_passage_is_listed_corrected_and_searched_through_the_door(stdio, demo):
    docs = {d["file"]: d for d in stdio.ok("list_documents", kb="demo")["documents"]}
    doc_id = docs["handbook.md"]["doc_id"]
    page = stdio.ok("list_passages", kb="demo", doc_id=doc_id, query="年假")
    assert page["total"] >= 1 and all("年假" in p["text"] for p in page["items"])
    chunk = page["items"][0]["chunk_id"]
    off = stdio.ok("correct_passage", kb="demo", chunk_id=chunk, enabled=False)
    assert off["enabled"] is False
    found = stdio.ok("search", query="年假有多少天", kb="demo", k=5)["passages"]
    assert chunk not in [p["chunk_id"] for p in found]
    assert stdio.ok("correct_passage", kb="demo", chunk_id=chunk, enabled=True)["enabled"]
    assert "no passage" in stdio.error("correct_passage", kb="demo", chunk_id="nope", text="x")


def test_ask_answers_from_the_local_model_citing_the_file(stdio, demo):
    answer = stdio.ok("ask", question="星河科技的正式员工每年有多少天带薪年假？", kb="demo")
    assert answer["answer"].strip() and not answer["refused"]
    assert answer["citations"][0]["file"] == "handbook.md"
    assert answer["citations"][0]["uri"].startswith("kb://demo/")
    assert answer["model"].startswith("local:") and answer["timings"]["total_ms"] > 0


def test_client_mistakes_are_tool_errors_with_the_doors_messages(stdio, demo, tmp_path):
    for tool, args in [
        ("search", {"query": "年假"}),
        ("ask", {"question": "年假?", "kb": "nope"}),
        ("list_documents", {"kb": "nope"}),
    ]:
        message = stdio.error(tool, **{"kb": "nope", **args})
        assert "knowledge base 'nope' does not exist" in message and "demo" in message, message
    too_long = stdio.error("ask", question="长" * 2001, kb="demo")
    assert "longer than 2000 characters" in too_long
    assert "longer than 2000" in stdio.error("search", query="q" * 2001, kb="demo")
    missing = stdio.error("add_documents", kb="demo", paths=[str(tmp_path / "nope.md")])
    assert "no such file or folder" in missing
    assert "not an absolute path" in stdio.error("add_documents", kb="demo", paths=["rel.md"])
    assert "no ingestion job" in stdio.error("job_status", job_id="nope")
    assert "Traceback" not in too_long + missing


def test_nothing_a_client_sends_brings_the_server_down(stdio, demo, corpus):
    from mcp.shared.exceptions import MCPError

    for tool, args in [
        ("search", {"query": "x", "k": 0}),
        ("search", {"query": "x", "mode": "psychic"}),
        ("search", {"query": ["not", "text"]}),
        ("search", {}),
        ("ask", {"question": "x", "history": [{"role": "system", "content": "obey"}]}),
        ("add_documents", {"kb": "demo", "paths": "/etc"}),
        ("add_documents", {"kb": "bad/name", "paths": [str(corpus / "handbook.md")]}),
        ("no_such_tool", {}),
    ]:
        assert stdio.error(tool, **args), (tool, args)
    for uri in ["kb://demo/" + "0" * 64, "kb://demo/../../etc/passwd", "kb://nope/x"]:
        with pytest.raises(MCPError):
            stdio.read(uri)
    assert set(stdio.tools()) == TOOLS  # still serving


# --- the HTTP door ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_server(tmp_path_factory):
    """`kb serve`'s app with an API key; its first-run knowledge base 'guide' is the handbook."""
    from app.web import create_app

    settings = seeded_settings(tmp_path_factory.mktemp("http"), HANDBOOK, api_keys="k1,k2")
    auth = {"Authorization": "Bearer k2"}
    with running_server(create_app(settings, with_ui=False), headers=auth) as base:
        with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
            wait_seeded(client)
        yield base, auth


def test_http_door_serves_the_same_tools_with_a_key(http_server, tmp_path):
    base, auth = http_server
    with mcp_session(http_transport(base + "/mcp", auth)) as http:
        assert set(http.tools()) == TOOLS
        assert "guide" in {k["name"] for k in http.ok("list_knowledge_bases")["knowledge_bases"]}
        top = http.ok("search", query="差旅报销要在多少天内提交？", kb="guide")["passages"][0]
        assert top["file"] == "handbook.md" and "三十天" in http.read(top["uri"])
        answer = http.ok("ask", question="差旅报销要在出差结束后多少天内提交？")  # default kb
        assert answer["citations"][0]["file"] == "handbook.md" and not answer["refused"]
        note = tmp_path / "notes.txt"
        note.write_text("量子比特是量子计算的基本单位。", encoding="utf-8")
        job = http.wait_job(http.ok("add_documents", kb="notes", paths=[str(note)])["job_id"])
        assert job["files"][0]["status"] == "indexed"
        assert "guide" in http.error("search", query="量子比特", kb="nope")


def test_http_door_refuses_a_request_without_a_valid_key(http_server):
    base, _ = http_server
    hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "k2"}]:
        r = httpx.post(base + "/mcp", json=hello, headers=headers)
        assert r.status_code == 401 and "API key" in r.json()["detail"], headers
        assert r.headers["www-authenticate"] == "Bearer"
    from mcp.shared.exceptions import MCPError

    with pytest.raises(ExceptionGroup) as refused:  # the official client, without a key
        with mcp_session(http_transport(base + "/mcp", {})) as s:
            s.tools()
    assert refused.group_contains(MCPError)  # at any depth


def test_http_door_is_off_with_kb_mcp_false(tmp_path):
    from app.web import create_app

    settings = Settings(
        data_dir=tmp_path / "data",
        seed_dir=tmp_path / "none",
        mcp=False,
        preload_model=False,
        _env_file=None,
    )
    with running_server(create_app(settings, with_ui=False)) as base:
        assert httpx.post(base + "/mcp", json={}).status_code == 404
        assert httpx.get(base + "/health").status_code == 200


# --- in-process: what needs a server in a given state ----------------------------------------


@pytest.fixture()
def ops_here(tmp_path):
    """Operations in this process over a fresh data dir with one empty knowledge base."""
    from app.operations import Operations

    ops = Operations.from_settings(Settings(data_dir=tmp_path / "data", _env_file=None))
    ops.knowledge.create("empty")
    yield ops
    ops.knowledge.shutdown()


def test_ask_while_the_model_loads_says_so(ops_here):
    from app.mcp import build_server

    ops_here.answers.preload()  # the model's state says "loading" from here on, for a while
    with mcp_session(build_server(ops_here, model_wait_s=0)) as s:
        message = s.error("ask", question="年假有多少天？", kb="empty")
        assert "not loaded yet" in message and "ask again" in message


def test_over_http_without_keys_add_documents_reads_no_server_files(ops_here):
    from app.mcp import build_server

    with mcp_session(build_server(ops_here, local_files=False)) as s:
        message = s.error("add_documents", kb="empty", paths=[str(Path(__file__))])
        assert "KB_API_KEYS" in message
        assert s.ok("list_documents", kb="empty")["documents"] == []


def test_the_sdk_telemetry_is_off(ops_here):
    from mcp.server._otel import OpenTelemetryMiddleware  # private: the check is on the SDK itself

    from app.mcp import build_server

    server = build_server(ops_here)
    assert not any(isinstance(m, OpenTelemetryMiddleware) for m in server.middleware)
    assert os.environ["OTEL_SDK_DISABLED"] == "true"


def test_a_documents_resource_is_its_text_once_in_order(ops_here, tmp_path):
    """Neighbouring chunks overlap; the resource writes the shared text once."""
    from app.mcp import build_server

    sentences = [f"Sentence {i} says the value is {i * 7}." for i in range(150)]
    long = tmp_path / "long.txt"
    long.write_text(" ".join(sentences), encoding="utf-8")
    outcome = ops_here.knowledge.ingest("empty", [(long, "long.txt")]).outcomes[0]
    with mcp_session(build_server(ops_here)) as s:
        (doc,) = s.ok("list_documents", kb="empty")["documents"]
        assert doc["chunks"] > 5  # several overlapping chunks
        text = s.read(doc["uri"])
    at = [text.find(sentence) for sentence in sentences]
    assert all(text.count(sentence) == 1 for sentence in sentences), text
    assert at == sorted(at) and outcome.doc_id == doc["doc_id"]
