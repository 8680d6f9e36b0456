"""The name check: names are what a part-of-speech tagger (Chinese) or the spelling (English: two or
more capitalised words) says they are, never words picked from a question set."""

import pytest

from retrieval import NameCheck


@pytest.fixture(scope="module")
def check():
    return NameCheck()


def test_chinese_names_are_the_tagged_proper_nouns(check):
    assert check.names("嘉善南站由哪个公司管辖？") == ["嘉善", "南站"]
    assert check.names("余蔚是哪国国王？") == ["余蔚"]
    assert check.names("如何上传文档？") == []
    # plain words a small knowledge base may not hold are no names (they once refused answerable
    # questions)
    assert check.names("蒲葵一般生长在什么气候区？") == []
    assert check.names("原蹄兽哪一个脚趾最大？") == []
    # the kind of thing asked for is no name, though jieba tags 城市 a place name
    assert check.names("涞滩镇隶属于哪个城市？") == []
    assert check.names("李明在哪座城市出生？") == ["李明"]
    assert check.names("北京是哪个国家的首都？") == ["北京"]


def test_a_passage_about_something_else_misses_the_name(check):
    passage = ["广茂铁路是广东省的一条铁路，设有茂名南站。"]
    assert check.missing("嘉善南站由哪个公司管辖？", passage) == ["嘉善"]
    assert check.missing("茂名南站由哪个公司管辖？", passage) == []
    # a longer name counts as mentioned through one of its two-character pieces
    assert (
        check.missing(
            "吉格梅·多吉·旺楚克鼓励使用什么？", ["吉格梅是不丹国王。他鼓励使用现代工具。"]
        )
        == []
    )
    # so does a transliterated name written without its dots (the passage gives the surname alone)
    assert check.names("格雷厄姆特威格对疾病的传播提出了什么观点？") == ["格雷厄姆特威格"]
    assert (
        check.missing("格雷厄姆特威格对疾病的传播提出了什么观点？", ["特威格认为起因是炭疽。"])
        == []
    )
    assert check.missing("格雷厄姆特威格提出了什么观点？", ["诺曼·康托尔认为起因是炭疽。"]) == [
        "格雷厄姆特威格"
    ]


def test_english_names_are_runs_of_capitalised_words(check):
    assert check.names("Who was the Super Bowl 50 MVP?") == ["Super Bowl"]
    assert check.names("Clergy usually serve as what in local congregations?") == []
    # one capitalised word, or the first word, is no name
    assert check.names("Which NFL team won?") == []
    assert check.missing(
        "Who coached the Denver Broncos?", ["The Carolina Panthers were coached by Ron Rivera."]
    ) == ["Denver Broncos"]
    assert (
        check.missing("How many Pro Bowlers were on the Denver team?", ["four Pro Bowl selections"])
        == []
    )


def test_cross_language_questions_are_not_checked(check):
    assert (
        check.missing("黑豹队的防守丢了多少分？", ["The Panthers defense gave up just 308 points."])
        == []
    )


def test_a_name_the_knowledge_base_holds_elsewhere_is_not_missing(check):
    passage = ["广茂铁路是广东省的一条铁路，设有茂名南站。"]
    elsewhere = "沪杭铁路设有嘉善南站。"
    assert (
        check.missing("嘉善南站由哪个公司管辖？", passage, known=lambda text: text in elsewhere)
        == []
    )
    assert check.missing("嘉善南站由哪个公司管辖？", passage, known=lambda text: False) == ["嘉善"]
