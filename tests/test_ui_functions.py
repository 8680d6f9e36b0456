"""The UI's pure functions: the passage view (formula lines reflowed), the sources list, [n] links,
job rows and progress, conversations kept per knowledge base."""

from app.ui.source_view import passage_html, reflow


def test_formula_lines_are_joined_for_display():
    assert (
        reflow("L = 1\n2∥w∥2 +\nm\nX\ni=1\nαi(1 − yi(wTxi + b)) 的推导")
        == "L = 1 2∥w∥2 + m X i=1\nαi(1 − yi(wTxi + b)) 的推导"
    )
    assert (
        reflow("第一段正文，足够长的一行。\n\n第二段正文，也足够长。")
        == "第一段正文，足够长的一行。\n\n第二段正文，也足够长。"
    )


def test_formula_lines_keep_code_lists_and_tables_and_reach_the_model_joined():
    from answering.context import for_prompt

    code = "说明如下，这是足够长的一行正文。\n```python\nx = 1\ny\n```\nz\n- 是\n- 否\n| a |\n| b |"
    assert reflow(code) == code
    block = {"n": 1, "text": "## 式(3.32)\nJ =\nTN\nFP + TN\n由此可得下面的结论成立。"}
    assert for_prompt([block])[0]["text"] == "式(3.32)\nJ = TN FP + TN\n由此可得下面的结论成立。"


def test_passage_html_marks_the_cited_text_and_escapes():
    html = passage_html(
        {"n": 2, "source": "book.pdf", "page": 65},
        {"before": "前文<b>", "text": "m\nX\ni=1", "after": "后文"},
    )
    assert (
        "[2] book.pdf, p.65" in html and "<mark>m X i=1</mark>" in html and "前文&lt;b&gt;" in html
    )


# ------------------------------------------------------------------ the UI's other pure functions


def test_sources_list_quotes_literally_and_names_the_page():
    from answering import Citation
    from app.ui.chat import format_sources

    assert "No relevant sources" in format_sources([])
    cited = [
        Citation(
            n=1,
            source="handbook.pdf",
            page=3,
            text="# Leave\n**fifteen** days",
            score=0.9,
            chunk_id="c-1",
            doc_id="d",
        )
    ]
    shown = format_sources(cited)
    assert (
        shown.startswith("**[1] handbook.pdf, p.3**")
        and "\\# Leave \\*\\*fifteen\\*\\* days" in shown
    )


def test_answer_markers_become_links_only_for_cited_sources():
    from app.ui.chat import _unlinked, linked

    shown = linked("Fifteen days [1], claimed in 30 days [3].", [{"n": 1}])
    assert shown == "Fifteen days [[1]](#cite-1), claimed in 30 days [3]."
    assert (
        _unlinked({"role": "assistant", "content": shown})["content"]
        == "Fifteen days [1], claimed in 30 days [3]."
    )


def test_job_rows_and_progress_say_what_each_file_is_doing():
    from app.ui.documents import job_rows, progress_markdown

    embedding = {
        "source": "book.pdf",
        "status": "pending",
        "stage": "embedding",
        "chunks": 0,
        "chunks_done": 40,
        "chunks_total": 100,
        "pages_done": 0,
        "pages_total": 0,
        "elapsed_s": 12.0,
        "eta_s": 18.0,
        "error": None,
    }
    failed = {
        **embedding,
        "source": "bad.pdf",
        "status": "failed",
        "stage": "done",
        "chunks_total": 0,
        "eta_s": None,
        "error": "encrypted PDF: a password is needed to open it",
    }
    rows = job_rows({"files": [embedding, failed]})
    assert (
        rows[0][:3] == ["book.pdf", "向量化中 embedding", "分块 chunk 40/100"]
        and "~18 s left" in rows[0][4]
    )
    assert (
        rows[1][1] == "失败 failed"
        and rows[1][5].startswith("加密的 PDF")
        and "password" in rows[1][5]
    )
    running = progress_markdown(
        {"status": "running", "progress": 0.4, "files": [embedding], "elapsed_s": 12}, {}
    )
    assert "40%" in running and "book.pdf" in running
    done = progress_markdown({"status": "done", "elapsed_s": 30}, {"indexed": 1, "failed": 1})
    assert done.startswith("✅") and "已索引 indexed: 1" in done


def test_conversations_are_kept_per_knowledge_base():
    from app.ui import conversations as conv

    saved = conv.empty()
    saved, _ = conv.remember(
        "guide", [{"role": "user", "content": [{"text": "年假有几天？"}]}], [], saved
    )
    first = saved["current"]
    assert saved["chats"][0]["title"] == "年假有几天？" and saved["chats"][0]["kb"] == "guide"
    # another KB: a new conversation
    messages, history, _, saved = conv.on_kb_change("papers", saved)
    assert messages == [] and saved["current"] != first
    kb, messages, _, saved = conv.switch(first, saved)
    assert kb == "guide" and messages[0]["content"] == "年假有几天？"
    assert conv._valid({"old": "shape"}) == conv.empty()


def test_a_waiting_question_shows_its_place_and_wait():
    from app.ui.chat import waiting_line

    assert waiting_line(2, 31.4) == "⏳ 前面还有 2 个问题 2 questions ahead, ~31 s"
    assert waiting_line(1, None) == "⏳ 前面还有 1 个问题 1 question ahead"


def test_a_markdown_source_reads_without_its_markup():
    from app.ui.markdown_text import readable

    shown = readable("## 年假\n\n**正式员工**每年享有 *十五天*，见 [手册](a.md)。\n- 一条", "a.md")
    assert shown == "年假\n\n正式员工每年享有 十五天，见 手册。\n• 一条"
    assert readable("2**3 = 8, ## not a heading", "b.pdf") == "2**3 = 8, ## not a heading"


def test_the_sources_panel_says_how_many_of_the_passages_read_are_cited():
    """Issue 38, item 7: "Reading 4 passages" then one source shown, or none, is explained."""
    from app.ui.chat import format_sources

    cited = [{"n": 1, "source": "a.md", "page": None, "text": "年假十五天。", "score": 0.9}]
    assert "cites 1 of the 4 passages read" in format_sources(cited, read=4)
    assert "passages read" not in format_sources(cited, read=1)
    assert "Read 4 passages; the answer cites none" in format_sources([], read=4)
    assert "No relevant sources" in format_sources([])
