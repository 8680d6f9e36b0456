from langchain_core.documents import Document

from ingest import ChineseTextSplitter


def test_chinese_sentences_are_not_cut_midway():
    sentence = "这是一个用于测试的中文句子，它有一定的长度。"
    text = sentence * 30
    chunks = ChineseTextSplitter(chunk_size=100, chunk_overlap=0).split_text(text)
    assert len(chunks) > 3
    assert all(len(c) <= 100 for c in chunks)
    assert all(c.endswith("。") for c in chunks)


def test_english_sentences():
    text = "The quick brown fox jumps over the lazy dog. " * 20
    chunks = ChineseTextSplitter(chunk_size=120, chunk_overlap=0).split_text(text)
    assert all(len(c) <= 120 for c in chunks)
    assert all(c.endswith(".") for c in chunks)


def test_table_rows_never_split_and_header_repeated():
    rows = "\n".join(f"| 行{i} | 值{i} 的较长描述文本，用来撑大表格 |" for i in range(40))
    text = "表格前的说明。\n| 列A | 列B |\n|---|---|\n" + rows + "\n表格后的说明。"
    chunks = ChineseTextSplitter(chunk_size=200, chunk_overlap=20).split_text(text)
    table_chunks = [c for c in chunks if c.startswith("| 列A")]
    assert len(table_chunks) > 3
    for chunk in table_chunks:
        for line in chunk.split("\n"):
            assert line.startswith("|") and line.endswith("|")
    body_rows = [ln for c in table_chunks for ln in c.split("\n")[2:]]
    assert len(body_rows) == 40  # every row exactly once, none cut


def test_heading_path_on_every_chunk():
    doc = Document(
        page_content="内容。" * 200,
        metadata={"headings": "指南 > 安装", "page": 3, "source": "a.md"},
    )
    chunks = ChineseTextSplitter(chunk_size=100, chunk_overlap=10).split_documents([doc])
    assert len(chunks) > 2
    assert all(c.metadata["headings"] == "指南 > 安装" and c.metadata["page"] == 3 for c in chunks)


def test_overlap_carries_context():
    text = "。".join(f"第{i}句话的内容" for i in range(60)) + "。"
    chunks = ChineseTextSplitter(chunk_size=80, chunk_overlap=30).split_text(text)
    assert any(chunks[i][-8:] in chunks[i + 1] for i in range(len(chunks) - 1))
