"""Correcting a knowledge base over real HTTP (issue 38, item 3): a passage edited, and the
retrieval test then ranks it first for a query only the new text matches, by keyword and by
meaning; disabled and gone from search; added by hand and removed; undone; kept across a restart;
bad requests answered 404/422 with nothing changed; a server SIGKILLed during edits leaves both
indexes agreeing."""

import random
import sqlite3
import threading
import time

import httpx
import pytest

from app.settings import Settings
from tests.servers import KbProcess, create_and_upload, running_server

HANDBOOK = (
    "# 员工手册\n\n"
    "## 出差\n\n员工出差需提前三天提交申请，经部门经理批准后方可出行。\n\n"
    "## 住宿\n\n住宿标准：一线城市每晚不超过六百元，其他城市不超过四百元。\n\n"
    "## 报销\n\n报销须在出差结束后十五个工作日内提交，并附上全部发票原件。\n\n"
    "## 年假\n\n年假天数按工龄计算：满一年五天，满十年十天，满二十年十五天。\n"
)


def _settings(root):
    return Settings(data_dir=root / "data", preload_model=False, _env_file=None)


def _upload(client: httpx.Client) -> str:
    return create_and_upload(client, "手册", "handbook.md", HANDBOOK)


def _passages(client, doc_id) -> list[dict]:
    return client.get(f"/kbs/手册/documents/{doc_id}/passages", params={"limit": 500}).json()[
        "items"
    ]


def _search(client, query: str, **extra) -> list[dict]:
    body = {"query": query, "kb": "手册", "k": 5, "explain": True, **extra}
    reply = client.post("/search", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()["hits"]


def _holding(items, text: str) -> dict:
    return next(i for i in items if text in i["text"])


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from app.web import create_app

    root = tmp_path_factory.mktemp("passages")
    with (
        running_server(create_app(_settings(root), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        yield client, _upload(client), root


def test_an_edit_is_found_first_by_keyword_and_by_meaning(api):
    client, doc_id, _ = api
    target = _holding(_passages(client, doc_id), "住宿标准")
    new = "住宿标准：员工可入住公司签约的协议酒店，费用由公司直接结算。"
    reply = client.patch(f"/kbs/手册/passages/{target['chunk_id']}", json={"text": new})
    assert reply.status_code == 200, reply.text
    assert reply.json()["edited"] and "住宿标准：一线" in reply.json()["original_text"]
    by_word = _search(client, "协议酒店")[0]
    assert by_word["chunk_id"] == target["chunk_id"]
    assert by_word["signals"]["keyword_rank"] == 1
    by_meaning = _search(client, "公司替员工直接付住宿费吗", mode="dense")[0]
    assert by_meaning["chunk_id"] == target["chunk_id"]
    listed = _holding(_passages(client, doc_id), "协议酒店")
    assert listed["edited"] and listed["enabled"]
    undone = client.post(f"/kbs/手册/passages/{target['chunk_id']}/undo").json()
    assert undone["text"] == target["text"] and not undone["edited"]
    hits = _search(client, "协议酒店", mode="keyword")
    assert all(h["chunk_id"] != target["chunk_id"] for h in hits)  # the new words left with it


def test_a_disabled_passage_is_gone_from_search_until_enabled(api):
    client, doc_id, _ = api
    target = _holding(_passages(client, doc_id), "年假天数")
    url = f"/kbs/手册/passages/{target['chunk_id']}"
    assert _search(client, "年假有几天")[0]["chunk_id"] == target["chunk_id"]
    assert client.patch(url, json={"enabled": False}).json()["enabled"] is False
    assert target["chunk_id"] not in [h["chunk_id"] for h in _search(client, "年假有几天")]
    assert not _holding(_passages(client, doc_id), "年假天数")["enabled"]
    assert client.patch(url, json={"enabled": True}).json()["enabled"] is True
    assert _search(client, "年假有几天")[0]["chunk_id"] == target["chunk_id"]


def test_a_passage_added_by_hand_is_searched_then_removed(api):
    client, doc_id, _ = api
    note = "问：出差可以乘坐高铁一等座吗？答：经理级以上员工可以乘坐高铁一等座。"
    reply = client.post("/kbs/手册/passages", json={"text": note})
    assert reply.status_code == 201, reply.text
    added = reply.json()
    assert added["manual"] and added["index"] is None
    assert _search(client, "高铁一等座")[0]["chunk_id"] == added["chunk_id"]
    sources = [d["source"] for d in client.get("/kbs/手册/documents").json()]
    assert "Notes added by hand" in sources
    parsed = _passages(client, doc_id)[0]["chunk_id"]
    assert client.delete(f"/kbs/手册/passages/{parsed}").status_code == 422  # disable it instead
    assert client.delete(f"/kbs/手册/passages/{added['chunk_id']}").status_code == 204
    assert all(h["chunk_id"] != added["chunk_id"] for h in _search(client, "高铁一等座"))
    assert "Notes added by hand" in sources
    in_doc = client.post(
        "/kbs/手册/passages", json={"text": "补充：差旅补助每天一百元。", "doc_id": doc_id}
    ).json()
    assert _passages(client, doc_id)[-1]["chunk_id"] == in_doc["chunk_id"]
    assert client.delete(f"/kbs/手册/passages/{in_doc['chunk_id']}").status_code == 204


def test_bad_requests_change_nothing(api):
    client, doc_id, _ = api
    before = _passages(client, doc_id)
    first = before[0]["chunk_id"]
    cases = [
        (client.patch("/kbs/手册/passages/no-such-chunk", json={"text": "x"}), 404, "no-such"),
        (client.patch(f"/kbs/手册/passages/{first}", json={"text": "   "}), 422, "empty"),
        (client.patch(f"/kbs/手册/passages/{first}", json={"text": "字" * 4001}), 422, "4000"),
        (client.patch(f"/kbs/手册/passages/{first}", json={}), 422, "text, enabled"),
        (client.post(f"/kbs/手册/passages/{first}/undo"), 422, "no edit"),
        (client.post("/kbs/手册/passages", json={"text": "x", "doc_id": "0" * 64}), 404, "0000"),
        (client.patch("/kbs/没有/passages/x", json={"text": "x"}), 404, "没有"),
        (client.delete("/kbs/手册/passages/no-such-chunk"), 404, "no-such"),
    ]
    for reply, status, named in cases:
        assert reply.status_code == status, reply.text
        assert named in reply.json()["detail"], reply.text
    assert _passages(client, doc_id) == before


def test_edits_last_across_a_restart(tmp_path):
    from app.web import create_app

    with (
        running_server(create_app(_settings(tmp_path), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        doc_id = _upload(client)
        items = _passages(client, doc_id)
        client.patch(
            f"/kbs/手册/passages/{items[0]['chunk_id']}", json={"text": "出差改为线上审批。"}
        )
        client.patch(f"/kbs/手册/passages/{items[1]['chunk_id']}", json={"enabled": False})
    with (
        running_server(create_app(_settings(tmp_path), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        again = _passages(client, doc_id)
        assert again[0]["edited"] and "线上审批" in again[0]["text"]
        assert not again[1]["enabled"]
        assert _search(client, "线上审批")[0]["chunk_id"] == items[0]["chunk_id"]


def test_a_changed_file_says_how_many_edits_it_dropped_and_the_same_bytes_keep_them(tmp_path):
    from app.web import create_app

    with (
        running_server(create_app(_settings(tmp_path), with_ui=False)) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        doc_id = _upload(client)
        first = _passages(client, doc_id)[0]["chunk_id"]
        client.patch(f"/kbs/手册/passages/{first}", json={"text": "出差改为线上审批。"})
        again = client.post(
            "/kbs/手册/documents", files=[("files", ("handbook.md", HANDBOOK.encode()))]
        ).json()["job_id"]
        assert _job_files(client, again)[0]["status"] == "duplicate"  # the same bytes
        assert _passages(client, doc_id)[0]["edited"]  # the edit kept
        changed = HANDBOOK + "\n## 补充\n\n差旅补助每天一百元。\n"
        job = client.post(
            "/kbs/手册/documents", files=[("files", ("handbook.md", changed.encode()))]
        ).json()["job_id"]
        done = _job_files(client, job)[0]
        assert done["status"] == "indexed" and "1 passage edit" in (done["note"] or ""), done
        assert [d["doc_id"] for d in client.get("/kbs/手册/documents").json()] == [done["doc_id"]]


def _job_files(client, job_id: str) -> list[dict]:
    deadline = time.monotonic() + 120
    while (job := client.get(f"/jobs/{job_id}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return job["files"]


def keyword_rows_agree(data_dir) -> int:
    """After a kill: open the data dir as a restarted server would; every enabled passage's keyword
    row holds the tokens of the text Chroma holds. Returns how many passages were compared."""
    from app.operations import Operations

    ops = Operations.from_settings(Settings(data_dir=data_dir, preload_model=False, _env_file=None))
    kb = ops.knowledge.open("手册")
    kb.keyword_search("出差", 1)  # the first keyword read brings the index in step
    doc_id = next(r.doc_id for r in kb.documents() if r.source == "handbook.md")
    want = {
        cid: " ".join(kb.keyword.tokenizer.tokens(kb._index_text(text, meta)))
        for cid, text, meta in kb.document_chunks(doc_id)
        if meta.get("enabled", True) is not False
    }
    db = sqlite3.connect(data_dir / "keyword.sqlite")
    rows = dict(
        db.execute(f'SELECT chunk_id, tokens FROM "kw_{kb.id}" WHERE doc_id = ?', (doc_id,))
    )
    ops.knowledge.shutdown()
    assert rows == want
    return len(want)


def _edit_until_stopped(client, ids, label, rng, stop, sent) -> None:
    while not stop.is_set():
        cid = rng.choice(ids)
        try:
            client.patch(
                f"/kbs/手册/passages/{cid}",
                json={"text": f"{label}第{sent[0]}次修改：差旅规定{rng.random()}。"},
            )
            sent[0] += 1
        except httpx.HTTPError:
            return  # the server is gone


@pytest.mark.slow
def test_a_server_killed_during_edits_leaves_both_indexes_agreeing(tmp_path):
    env = {"KB_DATA_DIR": str(tmp_path / "data"), "KB_PRELOAD_MODEL": "false"}
    rng = random.Random(7)
    server = KbProcess("serve", "--no-ui", env=env).start()
    doc_id = None
    for round_ in range(3):
        with httpx.Client(base_url=server.base, timeout=60) as client:
            doc_id = doc_id or _upload(client)
            ids = [i["chunk_id"] for i in _passages(client, doc_id)]
            stop, sent = threading.Event(), [0]
            args = (client, ids, f"第{round_}轮", rng, stop, sent)
            editor = threading.Thread(target=_edit_until_stopped, args=args)
            editor.start()
            time.sleep(1.5 + rng.random() * 2)
            server.kill()  # in the middle of some edit
            stop.set()
            editor.join(30)
        assert sent[0] > 3, "the edits did not run before the kill"
        assert keyword_rows_agree(tmp_path / "data") >= 4
        server = KbProcess("serve", "--no-ui", env=env).start()
    server.kill()
