"""End to end through a real browser: the real server (REST + Gradio UI), headless Debian chromium.

Create a knowledge base, upload a small Chinese file, wait for it to be indexed, ask a question
whose answer is in it, and check the streamed answer and its cited source. Leaves a screenshot of
the chat in test-artifacts/ui-chat.png.
"""

import contextlib
import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import running_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

DOC_NAME = "年假制度.md"
# No Markdown heading: the packaged 270M model tends to echo a "# title" line instead of answering.
DOC_TEXT = """星河科技的正式员工每年享有十五天带薪年假。
年假需要提前三个工作日在 OA 系统中申请，并由直属主管审批。
当年未休完的年假可以顺延到次年三月三十一日，逾期作废。
"""
QUESTION = "星河科技的正式员工每年有多少天带薪年假？"
PDF_NAME = "差旅制度.pdf"
PDF_FILLER = (
    "本制度适用于公司全体员工的国内和国际出差。"
    "出差前需要在系统中提交出差申请，写明目的地、时间和预算。"
    "交通工具优先选择火车二等座或经济舱，住宿标准按城市等级执行。"
    "出差期间的餐费按天包干，无需提供发票。"
)
PDF_TARGET = "差旅报销需要在出差结束后三十天内提交，超过期限的报销单需要部门总监特批。"
PDF_QUESTION = "差旅报销需要在出差结束后多少天内提交？"
KB_NAME = "人事制度"

ANSWER_TIMEOUT_MS = 300_000  # first answer assembles and loads the local model on a 2-core machine
INDEX_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(
            "needs Debian chromium at /usr/bin/chromium (apt-get install chromium"
            " fonts-wqy-microhei, or bash .ci/system-deps.sh)"
        )
    pytest.importorskip("playwright.sync_api", reason="needs the playwright python package")
    from app.settings import Settings
    from app.web import create_app

    root = tmp_path_factory.mktemp("ui")
    seed = root / "seed"
    seed.mkdir()
    (seed / "guide.md").write_text("# 使用指南\n\n上传文档后即可提问。\n", encoding="utf-8")
    # the default model (not the tests' small Gemma): it cites the right source reliably
    settings = Settings(
        data_dir=root / "data",
        seed_dir=seed,
        llm_provider="local",
        llm_temperature=0.0,
        local_model="qwen2.5-coder-1.5b",
        chroma_url=None,
        api_keys=None,
        _env_file=None,
    )
    with running_server(create_app(settings), timeout_s=120) as url:
        yield url


@contextlib.contextmanager
def browser_page(locale: str = "zh-CN"):
    """A headless Chromium page (zh-CN unless told); fails the test on any JavaScript error in
    it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale=locale)
        page = context.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture()
def page(server_url):
    with browser_page() as page:
        yield page


def make_pdf(path: Path) -> None:
    """Two pages; the answer sits low on page 2, so a preview of the right page is easy to tell."""
    import pymupdf

    doc = pymupdf.open()
    doc.new_page(width=595, height=842).insert_textbox(
        pymupdf.Rect(50, 50, 545, 800), PDF_FILLER, fontsize=11, fontname="china-s"
    )
    second = doc.new_page(width=595, height=842)
    second.insert_textbox(
        pymupdf.Rect(50, 50, 545, 300), "第二页：报销流程说明。", fontsize=11, fontname="china-s"
    )
    second.insert_textbox(
        pymupdf.Rect(50, 560, 545, 640), PDF_TARGET, fontsize=11, fontname="china-s"
    )
    doc.save(str(path))
    doc.close()


def test_upload_then_ask_shows_cited_answer(page, server_url, tmp_path):
    from playwright.sync_api import expect

    doc = tmp_path / DOC_NAME
    doc.write_text(DOC_TEXT, encoding="utf-8")
    pdf = tmp_path / PDF_NAME
    make_pdf(pdf)

    page.goto(server_url + "/")  # redirects to /ui/
    expect(page.get_by_text("知识库助手 Knowledge-base assistant")).to_be_visible()
    # the page's load events fill the knowledge-base list (the seeded "guide" is selected); wait for
    # them, or their late answer would re-select "guide" after we create ours
    expect(page.locator("#kb-summary")).to_contain_text("guide", timeout=60_000)

    # a new knowledge base becomes the selected one
    page.locator("#new-kb textarea, #new-kb input").first.fill(KB_NAME)
    page.locator("#create-kb").click()
    expect(page.locator("#kb-summary")).to_contain_text(KB_NAME, timeout=60_000)

    # upload, then watch the per-file result turn to indexed
    page.get_by_role("tab", name="文档 Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(doc), str(pdf)])
    # Gradio has the files
    expect(page.locator("#upload")).to_contain_text(Path(PDF_NAME).stem, timeout=60_000)
    page.locator("#upload-btn").click()
    expect(page.locator("#job-progress")).to_contain_text("完成 Done", timeout=INDEX_TIMEOUT_MS)
    expect(page.locator("#job-table")).to_contain_text(DOC_NAME)
    assert page.locator("#job-table").inner_text().count("indexed") == 2, page.locator(
        "#job-table"
    ).inner_text()
    expect(page.locator("#job-progress")).to_contain_text("完成 Done")
    expect(page.locator("#docs-table")).to_contain_text(DOC_NAME)

    # ask; the answer streams into the chatbot, then the sources panel names the file
    page.get_by_role("tab", name="问答 Chat").click()
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#chatbot")).to_contain_text(QUESTION, timeout=60_000)
    expect(page.locator("#sources")).to_contain_text(DOC_NAME, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#sources")).to_contain_text("[1]")
    expect(page.locator("#sources")).to_contain_text("十五天")  # the quoted passage
    chat_text = page.locator("#chatbot").inner_text()
    assert "思考中" not in chat_text and "⚠️" not in chat_text, chat_text
    assert len(chat_text.replace(QUESTION, "").strip()) > 0, "no answer text in the chatbot"

    # the first source is shown at once: a Markdown file as its passage, marked, in its surrounding
    # text
    expect(page.locator("#source-passage mark")).to_contain_text("十五天", timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)

    # a PDF source: its page is drawn with the passage highlighted, beside the chat
    page.locator("#question textarea").fill(PDF_QUESTION)
    page.locator("#question textarea").press("Enter")
    expect(page.locator("#sources")).to_contain_text(PDF_NAME, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#source-pick")).to_contain_text(f"{PDF_NAME}, p.2")
    image = page.locator("#source-page img")
    expect(image).to_be_visible(timeout=60_000)
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[0] > 300 and size[1] > 400, size
    expect(page.locator("#source-passage mark")).to_contain_text("三十天")
    page.screenshot(path=str(ARTIFACTS / "ui-source-preview.png"), full_page=True)
    # the answer's [1] is a link to that source: a click shows it here, it does not navigate away
    link = page.locator('#chatbot a[href*="#cite-1"]').last
    expect(link).to_be_visible()
    pages_before = len(page.context.pages)
    link.click()
    expect(page.locator("#source-page img")).to_be_visible()
    assert "/ui" in page.url and "#cite" not in page.url and len(page.context.pages) == pages_before

    # a reload brings back the conversation and its knowledge base (kept in the browser once the
    # conversation list names it)
    expect(page.locator("#conversations input")).to_have_value(
        re.compile(QUESTION[:10]), timeout=30_000
    )
    page.reload()
    expect(page.locator("#kb-summary")).to_contain_text(KB_NAME, timeout=60_000)
    expect(page.locator("#chatbot")).to_contain_text(PDF_QUESTION, timeout=30_000)
    expect(page.locator("#chatbot")).to_contain_text(QUESTION)
    expect(page.locator("#conversations input")).to_have_value(re.compile(QUESTION[:10]))
    # ... with the last answer's sources, its cited page and its [n] links (issue 38, item 7)
    expect(page.locator("#sources")).to_contain_text(PDF_NAME, timeout=30_000)
    expect(page.locator("#source-page img")).to_be_visible(timeout=60_000)
    expect(page.locator('#chatbot a[href*="#cite-1"]').last).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "ui-after-reload.png"), full_page=True)

    # the conversation exports as Markdown and JSON, each answer with the file and page it cites
    page.locator("#export-chat").click()
    links = page.locator("#exported-chat a")
    expect(links).to_have_count(2, timeout=30_000)
    exported = {}
    for n in range(2):
        with page.expect_download() as download:
            links.nth(n).click()
        name = download.value.suggested_filename
        exported[Path(name).suffix] = Path(download.value.path()).read_text(encoding="utf-8")
    assert set(exported) == {".md", ".json"}, exported.keys()
    assert json.loads(exported[".json"])["turns"][1]["citations"][0]["source"] == PDF_NAME
    markdown = exported[".md"]
    assert markdown.index(QUESTION) < markdown.index(PDF_QUESTION), markdown
    assert f"{PDF_NAME}, p.2" in markdown and DOC_NAME in markdown, markdown

    # Clear empties the conversation and the sources
    page.locator("#clear").click()
    expect(page.locator("#chatbot")).not_to_contain_text(QUESTION)
    expect(page.locator("#sources")).not_to_contain_text(DOC_NAME)


def test_upload_shows_stages_and_full_reasons_and_delete_asks_first(page, server_url, tmp_path):
    from playwright.sync_api import expect

    from tests.make_files import FileFactory

    make = FileFactory(tmp_path)
    # enough pages that reading them outlasts a few of the page's polls, even on a quiet machine
    scan = make.image_only_pdf("扫描件.pdf", "第七条年假规定", pages=8)
    bad = make.raw("tool.exe", b"MZ not a document")
    page.goto(server_url + "/")
    expect(page.locator("#kb-summary")).to_contain_text("guide", timeout=60_000)
    page.get_by_role("tab", name="文档 Documents").click()
    page.locator("#upload input[type=file]").set_input_files([str(scan), str(bad)])
    expect(page.locator("#upload")).to_contain_text("tool", timeout=60_000)
    page.locator("#upload-btn").click()
    seen = []
    deadline = time.monotonic() + INDEX_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        seen.append(page.locator("#job-table").inner_text())
        if "完成 Done" in page.locator("#job-progress").inner_text():
            break
        time.sleep(0.1)
    during = "\n".join(seen[:-1])
    # a stage shown before the end
    assert "文字识别中 OCR" in during or "读取中 reading" in during, seen
    assert "page " in during and "/8" in during, seen  # pages counted as they are read
    table = page.locator("#job-table")
    expect(table).to_contain_text("已索引 indexed")
    # the refused file: its reason in both languages, with the whole list of what is supported
    expect(table).to_contain_text("不支持的文件类型")
    expect(table).to_contain_text("unsupported file type '.exe'")
    expect(table).to_contain_text(".vtt")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-upload-progress.png"), full_page=True)

    # delete asks first; Cancel keeps the document, Delete removes it
    docs = page.locator("#docs-table")
    expect(docs).to_contain_text("扫描件.pdf")
    # the short id shows the full one on hover
    full_id = docs.locator("span[title]").first.get_attribute("title")
    assert re.fullmatch(r"[0-9a-f]{64}", full_id or ""), full_id
    docs.get_by_text("扫描件.pdf").first.click()  # a row click selects the document
    expect(page.locator("#doc-pick input")).to_have_value(re.compile("扫描件"), timeout=30_000)
    page.locator("#delete-doc").click()
    expect(page.locator("#confirm-delete")).to_be_visible()
    expect(page.locator("#confirm-delete")).to_contain_text("扫描件.pdf")  # the file, not its id
    expect(page.locator("#confirm-delete-btn")).to_be_in_viewport()
    page.locator("#cancel-delete-btn").click()
    expect(page.locator("#confirm-delete")).to_be_hidden()
    expect(docs).to_contain_text("扫描件.pdf")
    page.locator("#delete-doc").click()
    page.locator("#confirm-delete-btn").click()
    expect(docs).not_to_contain_text("扫描件.pdf", timeout=30_000)


def test_the_page_has_its_own_favicon(page, server_url):
    from playwright.sync_api import expect

    page.goto(server_url + "/ui/")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_count(1, timeout=30_000)
    href = icon.get_attribute("href") or ""
    reply = httpx.get(httpx.URL(page.url).join(href), timeout=30)
    assert reply.status_code == 200 and b"<svg" in reply.content, (href, reply.status_code)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_gradio_own_strings_are_in_both_languages(server_url, locale):
    """Gradio's upload area reads as the page does, in Chinese and English, whatever the
    browser's language."""
    from playwright.sync_api import expect

    with browser_page(locale) as page:
        page.goto(server_url + "/ui/")
        page.get_by_role("tab", name="文档 Documents").click()
        expect(page.locator("#upload")).to_contain_text("拖放文件到此处 Drop File Here")
        expect(page.locator("#upload")).to_contain_text("点击上传 Click to Upload")
