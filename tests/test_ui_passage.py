"""The UI's passage view: formula text one symbol a line is shown as lines; the cited text is marked."""

from app.ui.chat import passage_html, reflow


def test_formula_lines_are_joined_for_display():
    assert reflow("L = 1\n2∥w∥2 +\nm\nX\ni=1\nαi(1 − yi(wTxi + b)) 的推导") == \
        "L = 1 2∥w∥2 + m X i=1\nαi(1 − yi(wTxi + b)) 的推导"
    assert reflow("第一段正文，足够长的一行。\n\n第二段正文，也足够长。") == "第一段正文，足够长的一行。\n\n第二段正文，也足够长。"


def test_passage_html_marks_the_cited_text_and_escapes():
    html = passage_html({"n": 2, "source": "book.pdf", "page": 65},
                        {"before": "前文<b>", "text": "m\nX\ni=1", "after": "后文"})
    assert "[2] book.pdf, p.65" in html and "<mark>m X i=1</mark>" in html and "前文&lt;b&gt;" in html
