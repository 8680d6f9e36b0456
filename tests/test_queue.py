"""Questions for the local model take turns: a waiting one is told its place, one past the bound is
refused with Retry-After, one whose client left is never answered, and search never waits.

The lane's own rules first (no server), then a real uvicorn server with the real local model, the
model "held busy" by a turn the test takes in the server's own lane."""

import json
import threading
import time

import httpx
import pytest

from app.operations import AnswerLane, Busy, Queued, TurnStream
from app.settings import Settings
from tests.servers import parse_sse, running_server, seeded_settings, wait_seeded

GUIDE = "# 星河手册\n\n星河科技的正式员工每年有十五天带薪年假。\n"


# --- the lane alone ----------------------------------------------------------------------------
def test_first_come_first_served_with_positions():
    lane = AnswerLane(max_waiting=3)
    first, second, third = lane.join(), lane.join(), lane.join()
    assert lane.wait_turn(first, 0) and not lane.wait_turn(second, 0)
    assert [lane.queued(t).position for t in (second, third)] == [1, 2]
    assert lane.waiting == 2
    lane.leave(first)
    assert not lane.wait_turn(third, 0) and lane.wait_turn(second, 0)
    assert lane.queued(third).position == 1


def test_past_the_bound_is_busy_with_a_retry_after():
    lane = AnswerLane(max_waiting=1)
    running = lane.join()
    lane.wait_turn(running, 0)
    lane.join()  # the one that may wait
    with pytest.raises(Busy) as refused:
        lane.join()
    assert refused.value.status == 429 and refused.value.retry_after_s >= 1
    assert "1 question(s) waiting" in refused.value.message


def test_the_estimate_comes_from_answers_timed():
    lane = AnswerLane(max_waiting=3)
    first = lane.join()
    lane.wait_turn(first, 0)
    waiting = lane.join()
    assert lane.queued(waiting) == Queued(1, None)  # nothing timed yet: no guess shown
    time.sleep(0.05)
    lane.leave(first)
    lane.wait_turn(waiting, 0)
    last = lane.join()
    assert lane.queued(last).wait_s is not None and lane.queued(last).wait_s >= 1.0


def test_a_cancelled_waiting_question_is_never_answered():
    lane = AnswerLane(max_waiting=3)
    holder = lane.join()
    lane.wait_turn(holder, 0)
    answered = []
    stream = TurnStream(lane, lambda: iter(answered.append("ran") or ["answer"]), poll_s=0.01)
    assert next(stream) == Queued(1, None)
    stream.cancel()
    assert lane.waiting == 0
    lane.leave(holder)
    assert list(stream) == [] and answered == []


def test_a_stream_whose_turn_comes_answers_and_frees_the_lane():
    lane = AnswerLane(max_waiting=3)
    holder = lane.join()
    lane.wait_turn(holder, 0)
    stream = TurnStream(lane, lambda: iter(["a", "b"]), poll_s=0.01)
    assert isinstance(next(stream), Queued)
    threading.Timer(0.1, lambda: lane.leave(holder)).start()
    assert [e for e in stream if not isinstance(e, Queued)] == ["a", "b"]
    assert lane.waiting == 0 and lane.served == 2
    after = lane.join()
    assert lane.wait_turn(after, 0)  # nobody holds the model any more


# --- a real server -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from app.web import create_app

    settings = seeded_settings(tmp_path_factory.mktemp("queue"), GUIDE, max_waiting=2)
    app = create_app(settings, with_ui=False)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=120) as client:
        wait_seeded(client)
        yield client, app.state.operations.answers.lane


class HeldModel:
    """The test takes the model's turn, as a long answer would; questions asked now wait."""

    def __init__(self, lane: AnswerLane):
        self.lane = lane

    def __enter__(self):
        self.ticket = self.lane.join()
        assert self.lane.wait_turn(self.ticket, 60)
        return self

    def __exit__(self, *_):
        self.lane.leave(self.ticket)


def _read_events(client, sink: list, question="年假有几天？", stop_after=None):
    """The SSE events of one /ask, appended to ``sink`` as they arrive."""
    body = {"question": question, "kb": "guide", "stream": True}
    with client.stream("POST", "/ask", json=body) as response:
        sink.append(("status", response.status_code))
        for line_event in _sse_lines(response):
            sink.append(line_event)
            if stop_after and line_event[0] == stop_after:
                return


def _sse_lines(response):
    buffered = ""
    for text in response.iter_text():
        buffered += text
        while "\r\n\r\n" in buffered or "\n\n" in buffered:
            sep = "\r\n\r\n" if "\r\n\r\n" in buffered else "\n\n"
            block, buffered = buffered.split(sep, 1)
            yield from parse_sse(block.replace("\r\n", "\n") + "\n\n")


def _wait_until(condition, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_waiting_question_hears_its_place_then_its_answer(served):
    client, lane = served
    events: list = []
    with HeldModel(lane):
        asker = threading.Thread(target=_read_events, args=(client, events))
        asker.start()
        _wait_until(lambda: any(e[0] == "queued" for e in events))
        time.sleep(0.3)
        assert not any(e[0] == "token" for e in events)  # nothing while the model is held
    asker.join(120)
    names = [e[0] for e in events]
    assert names[0] == "status" and events[0][1] == 200
    assert json.loads(events[names.index("queued")][1])["position"] == 1
    assert names.index("queued") < names.index("reading") < names.index("token")
    assert names[-1] == "done" and json.loads(events[-1][1])["answer"]
    cited = json.loads(events[names.index("citations")][1])
    assert [c["source"] for c in cited] == ["handbook.md"]


def test_one_past_the_bound_gets_429_with_retry_after(served):
    client, lane = served
    with HeldModel(lane):
        waiting = [[], []]
        threads = [threading.Thread(target=_read_events, args=(client, w)) for w in waiting]
        for t in threads:
            t.start()
        _wait_until(lambda: lane.waiting == 2)
        refused = client.post("/ask", json={"question": "年假？", "kb": "guide", "stream": True})
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert "busy" in refused.json()["detail"]
        openai = client.post(
            "/v1/chat/completions",
            json={"model": "guide", "messages": [{"role": "user", "content": "年假？"}]},
        )
        assert openai.status_code == 429 and "Retry-After" in openai.headers
        assert openai.json()["error"]["code"] == "rate_limit_exceeded"
    for t in threads:
        t.join(180)
    assert all(w[-1][0] == "done" for w in waiting)  # the two that waited were answered


def test_a_client_that_leaves_is_dropped_before_the_model_runs(served):
    client, lane = served
    with HeldModel(lane):
        served_before = lane.served
        events: list = []
        _read_events(client, events, stop_after="queued")  # then the connection closes
        assert events[-1][0] == "queued"
        _wait_until(lambda: lane.waiting == 0)  # it left the line on its own
    time.sleep(1.0)
    assert lane.served == served_before  # its turn never came: the model never ran it


def test_search_does_not_wait_behind_answers(served):
    client, lane = served
    with HeldModel(lane):
        started = time.monotonic()
        found = client.post("/search", json={"query": "年假", "kb": "guide", "k": 2})
        assert found.status_code == 200 and found.json()["hits"]
        assert time.monotonic() - started < 30


def test_the_openai_route_waits_with_a_comment_its_clients_skip(served):
    from openai import OpenAI

    client, lane = served
    sdk = OpenAI(base_url=str(client.base_url) + "/v1", api_key="unused", max_retries=0)
    request = {"model": "guide", "messages": [{"role": "user", "content": "年假有几天？"}]}
    raw: list[str] = []
    with HeldModel(lane):
        with client.stream("POST", "/v1/chat/completions", json={**request, "stream": True}) as r:
            for line in r.iter_lines():
                raw.append(line)
                if line.startswith(":"):
                    break
        pieces: list[str] = []

        def read_with_sdk():
            for chunk in sdk.chat.completions.create(**request, stream=True):
                pieces.extend(c.delta.content or "" for c in chunk.choices)

        reader = threading.Thread(target=read_with_sdk)
        reader.start()
        _wait_until(lambda: lane.waiting == 1)
    reader.join(120)
    assert raw[-1].startswith(": queued: 1 ahead")
    assert "".join(pieces).strip()  # the SDK skipped the comment and read the answer


def test_remote_providers_do_not_wait_behind_the_local_model(tmp_path):
    """No question may wait (KB_MAX_WAITING=0) and the local model is held: a local question is
    refused at once, one for a vLLM server is sent (here it fails: nothing listens on the port)."""
    from answering import Failed
    from app.operations import AskOptions, Operations

    settings = Settings(data_dir=tmp_path, max_waiting=0, llm_max_retries=0, _env_file=None)
    ops = Operations.from_settings(settings)
    ops.knowledge.create("docs")
    with HeldModel(ops.answers.lane):
        with pytest.raises(Busy):
            ops.answers.stream("年假有几天？", [], AskOptions("docs"))
        remote = AskOptions("docs", provider="vllm", model="qwen")
        events = list(ops.answers.stream("年假有几天？", [], remote))
    assert not any(isinstance(e, Queued) for e in events)
    assert isinstance(events[-1], Failed) or events[-1].answer.refused_by == "relevance"


def test_a_whole_answer_client_that_gives_up_leaves_the_queue(served):
    client, lane = served
    with HeldModel(lane):
        served_before = lane.served
        with pytest.raises(httpx.ReadTimeout):
            client.post("/ask", json={"question": "年假？", "kb": "guide"}, timeout=1.0)
        _wait_until(lambda: lane.waiting == 0)  # noticed at its next place check (≤ 5 s)
    time.sleep(1.0)
    assert lane.served == served_before
    answered = client.post("/ask", json={"question": "年假有几天？", "kb": "guide"})
    assert answered.status_code == 200 and answered.json()["citations"]
