"""Open the box, through a real browser (issue 38's acceptance walk): upload a document and open its
passages; edit one, and the retrieval test ranks it first for a query only the new text matches, by
keyword and by meaning; disable it, and it is gone from the retrieval test; ask, give 👎 with a
correction, export the feedback, and `kb eval` on the export runs and scores it."""

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import running_server
from tests.test_ui_browser import ARTIFACTS, CHROMIUM, browser_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOC_NAME = "差旅制度.md"
DOC_TEXT = (
    "# 差旅制度\n\n"
    "## 申请\n\n员工出差需提前三天提交申请，经部门经理批准后方可出行。\n\n"
    "## 住宿\n\n住宿标准：一线城市每晚不超过六百元，其他城市不超过四百元。\n\n"
    "## 报销\n\n报销须在出差结束后十五个工作日内提交，并附上全部发票原件。\n"
)
NEW_TEXT = "住宿标准：员工可入住公司签约的协议酒店，费用由公司直接结算。"
KB_NAME = "差旅"
# every scrolled box inside the chat: (scrollTop, clientHeight, scrollHeight)
SCROLL_STATE_JS = """() => [...document.querySelectorAll('#chatbot *')]
    .filter(e => e.scrollHeight > e.clientHeight + 5
        && /(auto|scroll)/.test(getComputedStyle(e).overflowY))
    .map(e => [e.scrollTop, e.clientHeight, e.scrollHeight])"""


@contextlib.contextmanager
def serving(root: Path, **settings):
    """The real server (REST + UI) on a fresh data dir under ``root``; yields its URL."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian chromium at /usr/bin/chromium (bash .ci/system-deps.sh)")
    pytest.importorskip("playwright.sync_api", reason="needs the playwright python package")
    from app.settings import Settings
    from app.web import create_app

    (root / "seed").mkdir(parents=True, exist_ok=True)
    config = Settings(data_dir=root / "data", seed_dir=root / "seed", _env_file=None, **settings)
    with running_server(create_app(config), timeout_s=120) as url:
        yield url


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("open-box")
    with serving(root) as url:
        yield url, root


@pytest.fixture()
def page():
    with browser_page() as page:
        yield page


def _retrieval_test(page, query: str, mode: str):
    page.get_by_role("tab", name="检索测试 Retrieval test").click()
    page.locator("#test-query textarea").fill(query)
    page.get_by_label(mode, exact=True).check()
    page.locator("#test-run").click()


def _first_of(table_text: str) -> str:
    """Which passage comes first in the hits table (each named by words only it holds)."""
    found = {w: table_text.find(w) for w in ("协议酒店", "提前三天", "十五个工作日")}
    return min((at, w) for w, at in found.items() if at >= 0)[1]


def test_see_correct_and_rate(page, served, tmp_path):
    from playwright.sync_api import expect

    url, root = served
    doc = tmp_path / DOC_NAME
    doc.write_text(DOC_TEXT, encoding="utf-8")

    # 1. upload and open its passages
    _create_and_upload(page, url, doc)
    page.locator("#docs-table span", has_text=DOC_NAME).first.click()  # picks the document
    expect(page.locator("#doc-pick input")).to_have_value(re.compile("差旅"), timeout=30_000)
    page.locator("#passages").get_by_text("段落 Passages").click()
    table = page.locator("#passages-table")
    expect(table).to_contain_text("一线城市", timeout=60_000)

    # 2. edit one: the retrieval test ranks it first by keyword and by meaning
    table.locator("span", has_text="一线城市").first.click()
    editor = page.locator("#passage-text textarea")
    page.wait_for_function(
        "() => document.querySelector('#passage-text textarea').value.includes('一线城市')"
    )
    chunk_id = page.locator("#passage-id textarea, #passage-id input").first.input_value()
    editor.fill(NEW_TEXT)
    page.locator("#passage-save").click()
    expect(page.locator("#passage-status")).to_contain_text("Saved", timeout=60_000)
    expect(table).to_contain_text("edited")
    _retrieval_test(page, "协议酒店", "keyword")
    hits = page.locator("#test-hits")
    expect(hits).to_contain_text(chunk_id, timeout=60_000)
    assert _first_of(hits.inner_text()) == "协议酒店", hits.inner_text()
    _retrieval_test(page, "公司替员工直接付住宿费吗", "dense")
    expect(page.locator("#test-decision")).to_contain_text("mode dense", timeout=60_000)
    expect(hits).to_contain_text("提前三天")  # dense mode ranks every passage
    assert _first_of(hits.inner_text()) == "协议酒店", hits.inner_text()

    # 3. disable it: gone from search
    page.get_by_role("tab", name="文档 Documents").click()
    page.locator("#passage-disable").click()
    expect(page.locator("#passage-status")).to_contain_text("Disabled", timeout=60_000)
    expect(table).to_contain_text("disabled")
    _retrieval_test(page, "协议酒店", "hybrid")
    expect(page.locator("#test-decision")).to_contain_text("mode hybrid", timeout=60_000)
    expect(hits).not_to_contain_text(chunk_id)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-retrieval-test.png"), full_page=True)

    # 4. ask, 👎 with a correction, export, and kb eval runs the export
    page.get_by_role("tab", name="问答 Chat").click()
    question = "报销要在出差结束后多少天内提交？"
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#sources")).to_contain_text(DOC_NAME, timeout=300_000)
    # the sentence that supports the answer is marked in the cited passage
    expect(page.locator("#source-passage .kb-support").first).to_be_visible(timeout=60_000)
    # a Markdown source reads without its markup (item 7)
    for shown in ("#sources", "#source-passage"):
        assert "##" not in page.locator(shown).inner_text(), page.locator(shown).inner_text()
    # the thumbs read in both languages (app/ui/gradio_strings.py): "踩 Dislike"
    page.locator("#chatbot").get_by_label(re.compile("踩|Dislike")).last.click()
    expect(page.locator("#feedback-reason textarea")).to_be_visible(timeout=30_000)
    page.locator("#feedback-reason textarea").fill("没有说是工作日")
    page.locator("#feedback-correct textarea").fill("十五个工作日内")
    page.locator("#feedback-send").click()
    expect(page.locator("#feedback-reason textarea")).to_be_hidden(timeout=30_000)
    page.get_by_role("tab", name="文档 Documents").click()
    page.locator("#feedback").get_by_text("反馈 Feedback").click()
    page.locator("#feedback-refresh").click()
    expect(page.locator("#feedback-table")).to_contain_text("十五个工作日内", timeout=30_000)
    page.locator("#feedback-export").click()
    link = page.locator("#feedback-file a")
    expect(link).to_have_count(1, timeout=30_000)
    with page.expect_download() as download:
        link.click()
    qa = tmp_path / "feedback.jsonl"
    qa.write_bytes(Path(download.value.path()).read_bytes())
    items = [json.loads(line) for line in qa.read_text(encoding="utf-8").splitlines()]
    assert [(i["question"], i["answers"]) for i in items] == [(question, ["十五个工作日内"])]
    kb = Path(sys.executable).parent / "kb"
    env = {**os.environ, "KB_DATA_DIR": str(root / "data"), "KB_PRELOAD_MODEL": "false"}
    out = tmp_path / "report"
    run = subprocess.run(
        [str(kb), "eval", str(qa), "--kb", KB_NAME, "--retrieval-only", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["summary"]["n_questions"] == 1
    assert report["per_question"][0]["gold_source"] == DOC_NAME

    # a citation opens among its document's passages, ready to correct
    page.get_by_role("tab", name="问答 Chat").click()
    page.locator("#open-in-passages").click()
    expect(page.locator("#passages-table")).to_be_visible(timeout=30_000)
    page.wait_for_function(
        "() => (document.querySelector('#passage-id textarea, #passage-id input') || {}).value"
    )
    cited = page.locator("#passage-id textarea, #passage-id input").first.input_value()
    assert page.locator("#passage-text textarea").input_value().strip(), cited
    expect(page.locator("#doc-pick input")).to_have_value(re.compile("差旅"))


def _wait_until_settled(chat, question: str, timeout_s: float = 300) -> None:
    """Until the answer to ``question`` is in: asked, nothing pending, unchanged for 3 s."""
    deadline, text, since = time.monotonic() + timeout_s, "", time.monotonic()
    while time.monotonic() < deadline:
        now = chat.inner_text()
        if now != text:
            text, since = now, time.monotonic()
        elif question in text and "⏳" not in text and time.monotonic() - since >= 3:
            return
        time.sleep(0.3)
    raise AssertionError(f"no settled answer to {question}: {text}")


def _create_and_upload(
    page, url: str, docs: Path | list[Path], kb_name: str = KB_NAME, wait_done: bool = True
) -> None:
    """A new knowledge base made in the page, then ``docs`` uploaded (indexed when
    ``wait_done``)."""
    from playwright.sync_api import expect

    docs = docs if isinstance(docs, list) else [docs]
    page.goto(url + "/")
    # the page's load events are done (a knowledge base chosen, or none there yet)
    expect(page.locator("#kb-summary")).to_contain_text(
        re.compile("Choose or create|documents"), timeout=60_000
    )
    page.locator("#new-kb textarea, #new-kb input").first.fill(kb_name)
    page.locator("#create-kb").click()
    expect(page.locator("#kb-summary")).to_contain_text(kb_name, timeout=60_000)
    page.get_by_role("tab", name="文档 Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(d) for d in docs])
    expect(page.locator("#upload")).to_contain_text(docs[-1].stem, timeout=60_000)
    page.locator("#upload-btn").click()
    if wait_done:
        expect(page.locator("#job-progress")).to_contain_text("完成 Done", timeout=300_000)


def test_an_answer_cut_at_the_length_cap_says_so_and_continues(page, tmp_path):
    """Issue 38, item 7: a cut answer carries a notice and a Continue button, which answers the
    same question again with twice the cap in place of the cut answer; REST says cut_at_length."""
    from playwright.sync_api import expect

    doc = tmp_path / DOC_NAME
    doc.write_text(DOC_TEXT, encoding="utf-8")
    with serving(tmp_path / "server", llm_max_tokens=6) as url:
        _create_and_upload(page, url, doc)
        page.get_by_role("tab", name="问答 Chat").click()
        question = "请详细说明差旅制度的申请、住宿和报销规定。"
        page.locator("#question textarea").fill(question)
        page.locator("#question textarea").press("Enter")
        chat = page.locator("#chatbot")
        expect(chat).to_contain_text("cut at the length cap", timeout=300_000)
        expect(page.locator("#continue")).to_be_visible(timeout=30_000)
        before = chat.inner_text()
        page.locator("#continue").click()
        page.wait_for_function(
            "(n) => document.querySelector('#chatbot').innerText.length > n && "
            "!document.querySelector('#chatbot').innerText.includes('Thinking')",
            arg=len(before),
            timeout=300_000,
        )
        after = chat.inner_text()
        assert after.count(question) == 1, after  # in place of the cut answer, not a new turn
        reply = httpx.post(
            url + "/ask", json={"question": question, "kb": KB_NAME}, timeout=300
        ).json()
        assert reply["cut_at_length"] is True, reply
        # the chat follows each new answer: after several, it is scrolled to the newest
        for n in range(4):
            page.locator("#question textarea").fill(f"第{n}个问题：住宿标准是多少？")
            page.locator("#question textarea").press("Enter")
            _wait_until_settled(chat, f"第{n}个问题")
        scrolled = page.evaluate(SCROLL_STATE_JS)
        assert scrolled and all(top + seen >= height - 40 for top, seen, height in scrolled), (
            scrolled
        )
        page.screenshot(path=str(ARTIFACTS / "ui-chat-scrolled.png"), full_page=True)


def test_indexing_is_cancelled_from_the_page(page, served, tmp_path):
    """Issue 38, item 7: a long upload stops at Cancel indexing; the files not yet read end
    cancelled, and nothing half-indexed is listed."""
    from playwright.sync_api import expect

    from tests.make_files import FileFactory

    url, _ = served
    make = FileFactory(tmp_path)
    scans = [make.image_only_pdf(f"扫描{n}.pdf", f"第{n}份扫描件", pages=6) for n in range(3)]
    _create_and_upload(page, url, scans, kb_name="扫描", wait_done=False)
    expect(page.locator("#job-table")).to_contain_text("page", timeout=120_000)  # reading
    page.locator("#cancel-upload").click()
    expect(page.locator("#job-progress")).to_contain_text("Cancelled", timeout=300_000)
    expect(page.locator("#job-table")).to_contain_text("cancelled")
    listed = httpx.get(f"{url}/kbs/扫描/documents", timeout=30).json()
    assert all(d["status"] == "indexed" for d in listed), listed
    assert len(listed) < len(scans), listed


def test_the_chapters_of_a_book_are_named_in_the_page(page, served, tmp_path):
    """Issue 38, item 7: "这本书有哪些章节？" is answered with the chapters (from the PDF's
    outline), not "[1]" alone."""
    import pymupdf
    from playwright.sync_api import expect

    url, _ = served
    book = tmp_path / "制度汇编.pdf"
    pdf = pymupdf.open()
    chapters = ["第一章 总则", "第二章 假期管理", "第三章 差旅报销"]
    for title in chapters:
        pdf.new_page().insert_textbox(
            pymupdf.Rect(50, 50, 545, 800),
            f"{title}\n本章规定{title[4:]}的具体办法，共十条，适用于全体员工。" * 3,
            fontsize=11,
            fontname="china-s",
        )
    pdf.set_toc([[1, title, n + 1] for n, title in enumerate(chapters)])
    pdf.save(str(book))
    pdf.close()
    _create_and_upload(page, url, book, kb_name="汇编")
    page.get_by_role("tab", name="问答 Chat").click()
    page.locator("#question textarea").fill("这本书有哪些章节？")
    page.locator("#question textarea").press("Enter")
    chat = page.locator("#chatbot")
    _wait_until_settled(chat, "这本书有哪些章节？")
    for title in chapters:
        expect(chat).to_contain_text(title)
    expect(page.locator("#sources")).to_contain_text("制度汇编.pdf")
