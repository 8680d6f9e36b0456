"""The page's "Keep and move" panel in a real browser (issue 39, item 3): export the knowledge base
to an archive, download it, import it under another name, and see the new knowledge base listed;
a damaged archive is refused with its reason and nothing is added."""

import time

import httpx
import pytest

from tests.servers import running_server, seeded_settings
from tests.test_ui_browser import CHROMIUM, LAUNCH_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HANDBOOK = "# 年假\n\n正式员工每年享有十五天带薪年假。\n"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("needs Debian chromium at /usr/bin/chromium (bash .ci/system-deps.sh)")
    pytest.importorskip("playwright.sync_api", reason="needs the playwright python package")
    from app.web import create_app

    settings = seeded_settings(tmp_path_factory.mktemp("ui-keep"), HANDBOOK, preload_model=False)
    with running_server(create_app(settings)) as url:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # the first-run knowledge base, built in the background
            if any(k["documents"] for k in httpx.get(url + "/kbs", timeout=10).json()):
                break
            time.sleep(0.3)
        yield url


def test_export_download_and_import_under_another_name(server_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server_url + "/")
        expect(page.locator("#kb-summary")).to_contain_text("guide", timeout=60_000)
        page.get_by_role("tab", name="文档 Documents").click()
        page.locator("#keeping").get_by_text("保存与迁移 Keep and move").click()
        page.locator("#export-kb").click()
        expect(page.locator("#keeping-status")).to_contain_text("已导出 Exported guide")
        with page.expect_download() as download:
            page.locator("#exported a[download='guide.kb.zip']").click()
        saved = tmp_path / "guide.kb.zip"
        download.value.save_as(saved)
        assert saved.stat().st_size > 0

        damaged = tmp_path / "damaged.kb.zip"
        damaged.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
        page.locator("#import-file input[type=file]").set_input_files(str(damaged))
        expect(page.locator("#import-file td.filename")).to_have_attribute(
            "aria-label", "damaged.kb.zip", timeout=30_000
        )
        page.locator("#import-name input, #import-name textarea").first.fill("副本")
        page.locator("#import-btn").click()
        expect(page.locator("#keeping-status")).to_contain_text("damaged.kb.zip")
        assert "副本" not in {k["name"] for k in httpx.get(server_url + "/kbs").json()}

        page.locator("#import-file button[aria-label$='Clear']").click()
        page.locator("#import-file input[type=file]").set_input_files(str(saved))
        expect(page.locator("#import-file td.filename")).to_have_attribute(
            "aria-label", "guide.kb.zip", timeout=30_000
        )
        page.locator("#import-btn").click()
        expect(page.locator("#keeping-status")).to_contain_text("完成 Done", timeout=120_000)
        expect(page.locator("#kb-select input")).to_have_value("副本", timeout=30_000)
        browser.close()
    kbs = {k["name"]: k for k in httpx.get(server_url + "/kbs").json()}
    assert kbs["副本"]["documents"] == kbs["guide"]["documents"] == 1
    assert not errors, errors
