"""Each loader on files the test makes: page numbers, Chinese text, tables, encodings, bad input."""

import pytest

from ingest import IngestError, LoadLimits, load_file


def test_pdf_chinese_text_and_1_based_pages(files):
    path = files.pdf(
        "book.pdf", ["第一章 南瓜书是西瓜书的公式推导解析。", "第二章 模型评估与选择。"]
    )
    docs = load_file(path)
    assert [d.metadata["page"] for d in docs] == [1, 2]
    assert "南瓜书是西瓜书的公式推导解析" in docs[0].page_content.replace("\n", "")
    assert "模型评估与选择" in docs[1].page_content.replace("\n", "")
    assert all(d.metadata["source"] == "book.pdf" for d in docs)
    assert len({d.metadata["doc_id"] for d in docs}) == 1 and len(docs[0].metadata["doc_id"]) == 64


def test_pdf_table_becomes_markdown(files):
    rows = [["指标", "数值"], ["准确率", "0.93"], ["召回率", "0.88"]]
    path = files.pdf_with_table("table.pdf", "下表给出了模型的结果。", rows)
    text = load_file(path)[0].page_content
    assert "| 指标 | 数值 |" in text
    assert "| 召回率 | 0.88 |" in text
    assert text.index("下表给出了") < text.index("| 指标") < text.index("表格之后")


def test_pdf_image_only_page_goes_through_ocr(files):
    path = files.image_only_pdf("scan.pdf", "扫描文件 OCR 测试")
    text = load_file(path)[0].page_content.replace(" ", "")
    assert "扫描文件" in text


def test_pdf_image_only_without_ocr_says_so(files):
    path = files.image_only_pdf("scan.pdf", "扫描文件")
    with pytest.raises(IngestError, match="OCR is turned off"):
        load_file(path, LoadLimits(ocr=False))


def test_encrypted_pdf_needs_password(files):
    path = files.encrypted_pdf("locked.pdf", "机密")
    with pytest.raises(IngestError, match="password"):
        load_file(path)


def test_encrypted_pdf_with_empty_user_password_opens(files):
    path = files.encrypted_pdf("open.pdf", "公开内容可以读取。", user_pw="")
    assert "公开内容" in load_file(path)[0].page_content


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.pdf", b"", "empty"),
        ("fake.pdf", b"this is not a pdf at all" * 10, "not a PDF"),
        ("cut.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "damaged"),
        ("binary.txt", bytes(range(256)) * 40, "not a text file"),
        ("a.exe", b"MZ\x90\x00", "unsupported file type"),
        ("bad.docx", b"PK\x03\x04 not really a zip", "not a valid .docx"),
        ("bad.json", b'{"a": [1, 2', "invalid JSON"),
    ],
)
def test_bad_files_give_clear_reasons(files, name, data, reason):
    path = files.raw(name, data)
    with pytest.raises(IngestError, match=reason):
        load_file(path)


def test_too_large_file(files):
    path = files.text("big.txt", "字" * 5000)
    with pytest.raises(IngestError, match="too large"):
        load_file(path, LoadLimits(max_file_bytes=1000))


def test_markdown_sections_keep_heading_path(files):
    md = (
        "# 指南\n\n简介段落。\n\n## 安装\n\n运行 make run。\n\n```\n# not a heading\n```\n\n###"
        " 离线\n\n不需要网络。\n"
    )
    docs = load_file(files.text("guide.md", md))
    paths = [d.metadata["headings"] for d in docs]
    assert paths == ["指南", "指南 > 安装", "指南 > 安装 > 离线"]
    assert "# not a heading" in docs[1].page_content


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "gbk", "utf-16", "utf-8-sig"])
def test_text_encodings(files, encoding):
    content = "机器学习是人工智能的一个分支。\n第二行：模型训练。\n"
    text = load_file(files.text(f"t-{encoding}.txt", content, encoding))[0].page_content
    assert "机器学习是人工智能的一个分支" in text and "模型训练" in text


def test_docx_headings_and_table(files):
    path = files.docx("doc.docx", "项目说明", ["这是第一段。"], [["名称", "版本"], ["kb", "0.1"]])
    docs = load_file(path)
    assert docs[0].metadata["headings"] == "项目说明"
    assert "这是第一段" in docs[0].page_content and "| kb | 0.1 |" in docs[0].page_content


def test_html_text_headings_and_table(files):
    html = (
        "<html><head><script>var"
        " x=1;</script><style>p{}</style></head><body><h1>手册</h1><p>第一段内容。</p>"
        "<table><tr><th>键</th><th>值</th></tr><tr><td>a</td><td>1</td></tr></table></body></html>"
    )
    docs = load_file(files.text("page.html", html))
    text = "\n".join(d.page_content for d in docs)
    assert "第一段内容" in text and "| a | 1 |" in text and "var x" not in text
    assert docs[0].metadata["headings"] == "手册"


def test_subtitles_drop_timings(files):
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\n强化学习是什么\n\n2\n00:00:02,000 -->"
        " 00:00:04,000\n智能体与环境交互\n"
    )
    text = load_file(files.text("talk.srt", srt))[0].page_content
    assert text == "强化学习是什么\n智能体与环境交互"


def test_csv_as_markdown_table(files):
    text = load_file(files.text("t.csv", "name,age\n张三,30\n李四,25\n"))[0].page_content
    assert text.splitlines()[0] == "| name | age |" and "| 李四 | 25 |" in text
