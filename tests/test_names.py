"""The name check that stops the model answering from passages about a neighbouring subject."""

import pytest

from retrieval import NameCheck


@pytest.fixture(scope="module")
def check():
    return NameCheck()


def test_chinese_names_are_the_rare_words(check):
    assert check.names("嘉善南站由哪个公司管辖？") == ["嘉善", "南站"]
    assert check.names("余蔚是哪国国王？") == ["余蔚"]  # 哪国 is a question word
    assert check.names("如何上传文档？") == ["上传", "文档"]
    assert check.names("那怎么删除它们？") == []


def test_a_passage_about_something_else_misses_the_name(check):
    passage = ["广茂铁路是广东省的一条铁路，设有茂名南站。"]
    assert check.missing("嘉善南站由哪个公司管辖？", passage) == ["嘉善"]
    assert check.missing("茂名南站由哪个公司管辖？", passage) == []
    # a longer word counts as mentioned through one of its two-character pieces
    assert check.missing("战国无双是哪两家公司合作开发的？", ["战国无双由光荣和ω-force合作制作。"]) == []


def test_english_names_are_capitalised_words_after_the_first(check):
    assert check.names("Who was the Super Bowl 50 MVP?") == ["Super", "Bowl", "MVP"]
    assert check.missing("Who coached the Denver Broncos?", ["The Carolina Panthers were coached by Ron Rivera."]) \
        == ["Denver", "Broncos"]
    assert check.missing("Which file formats are supported?", ["PDF, Markdown and text."]) == []
    assert check.missing("How many Pro Bowlers were on the team?", ["four Pro Bowl selections"]) == []


def test_cross_language_questions_are_not_checked(check):
    assert check.missing("黑豹队的防守丢了多少分？", ["The Panthers defense gave up just 308 points."]) == []
