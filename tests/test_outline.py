"""Outlines and section digests (issue 40): extraction from each source kind, the store's second
kind of unit (never returned by passage search, removed with its document, carried by export and
import), the REST route and the MCP resource over a real server, and the routing of structure
questions vs fact questions."""

from pathlib import Path

import httpx
import pytest

from answering import classify
from ingest import ChineseTextSplitter, LoadLimits, parse_and_split
from tests.servers import running_server, wait_job

BODY = "这一节介绍基本概念和常用的术语，并给出若干例子说明它们之间的关系。" * 6
TOC = [
    [1, "第1章 绪论", 1],
    [2, "1.1 引言", 1],
    [2, "1.2 基本术语", 2],
    [1, "第2章 模型评估", 3],
    [2, "2.1 经验误差与过拟合", 3],
    [2, "2.2 评估方法", 4],
]


def book_pdf(path: Path, toc=True) -> Path:
    """Four pages, each section's title drawn larger than its text; the outline set when asked."""
    import pymupdf

    doc = pymupdf.open()
    for page_no in range(1, 5):
        page = doc.new_page(width=595, height=842)
        y = 60
        for level, title, at in TOC:
            if at == page_no:
                page.insert_text(
                    (50, y), title, fontsize=20 if level == 1 else 15, fontname="china-s"
                )
                y += 40
                rect = pymupdf.Rect(50, y, 545, y + 160)
                page.insert_textbox(rect, f"{title}：{BODY}", fontsize=10, fontname="china-s")
                y += 180
    if toc:
        doc.set_toc(TOC)
    doc.save(str(path))
    doc.close()
    return path


def parse(path: Path):
    return parse_and_split(path, path.name, LoadLimits(), ChineseTextSplitter())


def test_pdf_outline_from_its_bookmarks(tmp_path):
    parsed = parse(book_pdf(tmp_path / "book.pdf"))
    entries = parsed.outline
    assert [(e.level, e.title, e.page_start) for e in entries] == [tuple(t) for t in TOC]
    chapter1, chapter2 = entries[0], entries[3]
    assert chapter1.page_end == 3 and chapter2.page_end == 4  # a chapter runs to the next one
    assert chapter1.chunk_start <= entries[1].chunk_start <= entries[2].chunk_end
    assert chapter1.chunk_end <= chapter2.chunk_end == len(parsed.chunks) - 1


def test_pdf_without_outline_gets_headings_from_font_and_numbering(tmp_path):
    entries = parse(book_pdf(tmp_path / "plain.pdf", toc=False)).outline
    found = {(e.level, e.title, e.page_start) for e in entries}
    assert (1, "第1章 绪论", 1) in found and (1, "第2章 模型评估", 3) in found, entries
    assert (2, "2.2 评估方法", 4) in found, entries
    assert not any("这一节介绍" in e.title for e in entries)  # body text is no heading


def test_markdown_docx_and_html_outlines_from_their_headings(tmp_path):
    import docx

    md = tmp_path / "guide.md"
    md.write_text(
        "# 用户指南\n\n总述。\n\n## 安装\n\n安装步骤。\n\n```\n# 不是标题\n```\n\n## 使用\n\n"
        "### 上传\n\n上传文件。\n",
        encoding="utf-8",
    )
    assert [(e.level, e.title) for e in parse(md).outline] == [
        (1, "用户指南"),
        (2, "安装"),
        (2, "使用"),
        (3, "上传"),
    ]
    word = docx.Document()
    word.add_heading("Report", 1)
    word.add_paragraph("Opening words of the report.")
    word.add_heading("Results", 2)
    word.add_paragraph("The results are good.")
    word.save(str(tmp_path / "report.docx"))
    outline = parse(tmp_path / "report.docx").outline
    assert [(e.level, e.title, e.page_start) for e in outline] == [
        (1, "Report", None),
        (2, "Results", None),
    ]
    html = tmp_path / "page.html"
    html.write_text(
        "<html><body><h1>Manual</h1><p>Intro text here.</p><h2>Setup</h2><p>Steps.</p>"
        "<h2>Usage</h2><p>How to use it.</p></body></html>",
        encoding="utf-8",
    )
    assert [e.title for e in parse(html).outline] == ["Manual", "Setup", "Usage"]
    plain = tmp_path / "notes.txt"
    plain.write_text("no headings at all, just a line of text", encoding="utf-8")
    assert parse(plain).outline == []


def test_sections_are_stored_beside_passages_never_returned_by_search(store, parser, tmp_path):
    from ingest import ingest_files

    kb = store.open_for_writing("书库", create=True)
    path = book_pdf(tmp_path / "book.pdf")
    stats = ingest_files(kb, [(path, "book.pdf")], parser)
    doc_id = stats.outcomes[0].doc_id
    outline = kb.outline(doc_id)
    assert [e["title"] for e in outline] == [t[1] for t in TOC]
    assert all(e["digest"] and len(e["digest"]) <= 3 * 161 for e in outline)
    assert "术语" in outline[2]["digest"] or "概念" in outline[2]["digest"]
    hits = kb.dense_search("基本术语", 50) + kb.keyword_search("基本术语", 50)
    assert hits and all("#s" not in cid for cid, _ in hits)  # sections are no passages
    kb.delete_document(doc_id)
    assert kb.outline(doc_id) == [] and not kb.sections.has_outline(doc_id)


def test_a_section_digest_follows_its_passages_edits(store, parser, tmp_path):
    """An edit of a passage is read by its section's digest; disabling it takes it out; undoing
    the edit brings the parsed text back. Other sections keep their digests."""
    from ingest import ingest_files

    kb = store.open_for_writing("改书", create=True)
    doc_id = ingest_files(kb, [(book_pdf(tmp_path / "b.pdf"), "b.pdf")], parser).outcomes[0].doc_id
    before = kb.outline(doc_id)
    first = before[2]  # 1.2 基本术语
    chunk = kb.document_chunks(doc_id)[first["chunk_start"]][0]
    new_text = "向量数据库按照余弦相似度检索最相近的段落，这是本节新写的唯一一句话。"
    kb.edit_passage(chunk, new_text)
    after = kb.outline(doc_id)
    assert "向量数据库" in after[2]["digest"]
    untouched = [
        n
        for n, e in enumerate(before)
        if not e["chunk_start"] <= first["chunk_start"] <= e["chunk_end"]
    ]
    assert untouched and all(after[n]["digest"] == before[n]["digest"] for n in untouched)
    kb.set_passage_enabled(chunk, False)
    assert "向量数据库" not in kb.outline(doc_id)[2]["digest"]
    kb.set_passage_enabled(chunk, True)
    kb.undo_edit(chunk)
    assert "向量数据库" not in kb.outline(doc_id)[2]["digest"]


def test_export_and_import_carry_the_outline(store, parser, tmp_path):
    from ingest import ingest_files
    from retrieval import Archive, import_archive, write_archive

    kb = store.open_for_writing("源", create=True)
    path = book_pdf(tmp_path / "book.pdf")
    doc_id = ingest_files(kb, [(path, "book.pdf")], parser).outcomes[0].doc_id
    before = kb.outline(doc_id)
    out = tmp_path / "kb.zip"
    write_archive(kb, store.embedding_identity(), out, lambda record: None)
    with Archive(out) as archive:
        import_archive(store, archive, name="副本")
    assert store.get("副本").outline(doc_id) == before


ROUTED = {
    "这本书有哪些章？": "outline",
    "这本书有哪些章节？": "outline",
    "全书共有多少章？": "outline",
    "What are the chapters of this book?": "outline",
    "第6章讲了什么？": "section",
    "第十二章的主要内容是什么？": "section",
    "What does Item 7 cover?": "section",
    "What does section 3.2 cover?": "section",
    "「决策树」这一章讲了什么？": "section",
    "哪一章讲了核函数？": "locate",
    "Which chapter discusses kernel functions?": "locate",
    "总结一下这本书的主要内容": "summary",
    "Summarize this document.": "summary",
}
FACTS = [
    "第3章的式(3.7)怎么推导？",
    "如何上传文档？",
    "Which file formats are supported?",
    "南瓜书是什么？",
    "武藏浦和站可分为几个部分？",
    "What part of France were the Normans located?",
    "如何在章节标题中使用脚注而不出现在目录里？",
    "在代价曲线里怎样确定最佳阈值？",
]


def test_structure_questions_are_routed_and_fact_questions_are_not():
    assert {q: getattr(classify(q), "kind", None) for q in ROUTED} == ROUTED
    assert [q for q in FACTS if classify(q) is not None] == []
    assert classify("第6章讲了什么？").number == "6"
    assert classify("第十二章的主要内容是什么？").number == "12"
    assert classify("「决策树」这一章讲了什么？").named == "决策树"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from app.settings import Settings
    from app.web import create_app

    root = tmp_path_factory.mktemp("outline")
    (root / "seed").mkdir()
    book_pdf(root / "book.pdf")
    settings = Settings(
        data_dir=root / "data",
        seed_dir=root / "seed",
        preload_model=False,
        _env_file=None,
        api_keys="k1",
    )
    auth = {"Authorization": "Bearer k1"}
    with (
        running_server(create_app(settings, with_ui=False), headers=auth) as base,
        httpx.Client(base_url=base, headers=auth, timeout=120) as client,
    ):
        assert client.post("/kbs", json={"name": "书"}).status_code == 201
        files = [("files", ("book.pdf", (root / "book.pdf").read_bytes()))]
        job = wait_job(client, client.post("/kbs/书/documents", files=files).json()["job_id"])
        assert job["files"][0]["status"] == "indexed", job["files"]
        yield base, client, auth, job["files"][0]["doc_id"]


def test_outline_route_over_http(api):
    base, client, _, doc_id = api
    body = client.get(f"/kbs/书/documents/{doc_id}/outline").json()
    assert body["source"] == "book.pdf" and body["pages"] == 4
    assert [(e["level"], e["title"], e["page_start"]) for e in body["entries"]] == [
        tuple(t) for t in TOC
    ]
    first = body["entries"][4]  # 2.1: its first passage opens where the section starts
    passage = client.get(f"/kbs/书/documents/{doc_id}/passages/{first['chunk_id']}").json()
    assert passage["page"] == 3
    assert httpx.get(f"{base}/kbs/书/documents/{doc_id}/outline").status_code == 401
    missing = client.get(f"/kbs/书/documents/{'0' * 64}/outline")
    assert missing.status_code == 404 and "not in knowledge base" in missing.text
    assert client.get(f"/kbs/nope/documents/{doc_id}/outline").status_code == 404


def test_outline_resource_over_mcp(api):
    from tests.test_mcp import http_transport, mcp_session

    base, _, auth, doc_id = api
    with mcp_session(http_transport(base + "/mcp", auth)) as session:
        text = session.read(f"kb://%E4%B9%A6/{doc_id}/outline")
    assert "# Outline of book.pdf" in text
    assert "- 第1章 绪论 (p. 1-3)" in text and "  - 2.2 评估方法 (p. 4)" in text


def test_kb_outline_command(tmp_path):
    import json
    import os
    import subprocess
    import sys

    kb = str(Path(sys.executable).parent / "kb")
    env = {**os.environ, "KB_DATA_DIR": str(tmp_path / "data"), "KB_PRELOAD_MODEL": "false"}
    path = book_pdf(tmp_path / "book.pdf")
    run = lambda *args: subprocess.run(  # noqa: E731
        [kb, *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert run("ingest", str(path), "--kb", "cli").returncode == 0
    doc_id = json.loads(run("docs", "--kb", "cli", "--json").stdout)[0]["doc_id"]
    shown = run("outline", doc_id[:8], "--kb", "cli")
    assert shown.returncode == 0, shown.stderr
    assert "第1章 绪论  p. 1-3" in shown.stdout and "  2.2 评估方法  p. 4" in shown.stdout
    missing = run("outline", "ffffffff", "--kb", "cli")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
