"""Keeping and moving a knowledge base over REST (issue 39, items 2-3): download an archive, upload
it under another name (a durable job, then the same search results), refuse a damaged archive and
an existing name with nothing written, and re-embed as a job. Behind KB_API_KEYS like every
route."""

import io
import zipfile

import httpx
import pytest

from tests.servers import running_server, seeded_settings, wait_job

KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
HANDBOOK = "# 年假\n\n正式员工每年享有十五天带薪年假。\n\n# 报销\n\n报销单在每月五日前提交。\n"
QUERIES = ["年假有几天", "报销什么时候提交", "带薪假"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    from app.web import create_app

    settings = seeded_settings(
        tmp_path_factory.mktemp("archive-rest"), HANDBOOK, preload_model=False, api_keys=KEY
    )
    with running_server(create_app(settings, with_ui=False), headers=AUTH) as url:
        yield url


@pytest.fixture(scope="module")
def client(base):
    with httpx.Client(base_url=base, headers=AUTH, timeout=120) as c:
        c.post("/kbs", json={"name": "手册"})
        upload = c.post(
            "/kbs/手册/documents", files=[("files", ("handbook.md", HANDBOOK.encode()))]
        )
        assert upload.status_code == 202, upload.text
        assert wait_job(c, upload.json()["job_id"])["files"][0]["status"] == "indexed"
        yield c


def top(client, kb: str) -> list[list[str]]:
    hits = [client.post("/search", json={"kb": kb, "query": q, "k": 5}).json() for q in QUERIES]
    return [[h["text"] for h in found["hits"]] for found in hits]


def names(client) -> set[str]:
    return {k["name"] for k in client.get("/kbs").json()}


@pytest.fixture(scope="module")
def archive(client) -> bytes:
    reply = client.get("/kbs/手册/export")
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/zip"
    assert "kb.zip" in reply.headers["content-disposition"]
    assert "manifest.json" in zipfile.ZipFile(io.BytesIO(reply.content)).namelist()
    return reply.content


def test_every_route_needs_the_key(base):
    assert httpx.get(base + "/kbs/手册/export").status_code == 401
    assert httpx.post(base + "/kbs/手册/reembed").status_code == 401
    assert httpx.post(base + "/kbs/import", files={"file": ("a.kb.zip", b"x")}).status_code == 401


def test_an_uploaded_archive_is_imported_by_a_job_with_the_same_results(client, archive):
    accepted = client.post(
        "/kbs/import", files={"file": ("手册.kb.zip", archive)}, data={"name": "副本"}
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["kb"] == "副本"
    job = wait_job(client, accepted.json()["job_id"])
    assert job["kind"] == "import" and job["files"][0]["status"] == "indexed", job
    assert top(client, "副本") == top(client, "手册")


def test_an_existing_name_is_refused_without_replace(client, archive):
    before = names(client)
    again = client.post("/kbs/import", files={"file": ("手册.kb.zip", archive)})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    assert names(client) == before
    replaced = client.post(
        "/kbs/import", files={"file": ("手册.kb.zip", archive)}, data={"replace": "true"}
    )
    assert replaced.status_code == 202, replaced.text
    assert wait_job(client, replaced.json()["job_id"])["files"][0]["status"] == "indexed"
    assert names(client) == before


@pytest.mark.parametrize("damage", ["truncated", "altered", "foreign"])
def test_a_damaged_archive_is_refused_and_nothing_is_written(client, archive, damage):
    if damage == "truncated":
        data = archive[: len(archive) // 2]
    elif damage == "foreign":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr("notes.txt", "hello")
        data = buffer.getvalue()
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(archive)) as src, zipfile.ZipFile(buffer, "w") as out:
            for item in src.infolist():
                body = src.read(item)
                out.writestr(item, body.replace("十五天".encode(), "三十天".encode()))
        data = buffer.getvalue()
    before = names(client)
    reply = client.post("/kbs/import", files={"file": ("x.kb.zip", data)}, data={"name": "坏"})
    assert reply.status_code == 422, reply.text
    assert "x.kb.zip" in reply.json()["detail"]
    assert names(client) == before


def test_reembed_runs_as_a_job_and_searches_stay_the_same(client):
    before = top(client, "手册")
    accepted = client.post("/kbs/手册/reembed")
    assert accepted.status_code == 202, accepted.text
    job = wait_job(client, accepted.json()["job_id"])
    assert job["kind"] == "reembed" and job["files"][0]["status"] == "indexed", job
    assert job["files"][0]["chunks"] >= 2
    assert top(client, "手册") == before
    assert client.post("/kbs/没有这个/reembed").status_code == 404
