"""The answer check: a short answer is held back until the model, asked whether a source states it,
is sure enough; below the bar the answer becomes the refusal. A scripted model makes each branch
deterministic; the real default model's reading is in test_refusal_e2e.py."""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from answering import AnswerChain, ChainOptions
from answering.answer_check import MOST_HELD_CHARS, AnswerCheck, cited_source
from retrieval import Hit

NO = "知识库中没有找到与该问题相关的内容。"


def checker(probability, seen):
    def check(answer):
        seen.append(answer)
        return probability

    return check


def test_unset_bar_streams_the_answer_without_asking():
    seen = []
    check = AnswerCheck(checker(0.1, seen), None, NO)
    assert list(check.stream(iter(["中趾", " [1]"]))) == ["中趾", " [1]"]
    assert seen == [] and check.probability is None and not check.refused


def test_a_short_answer_below_the_bar_becomes_the_refusal():
    seen = []
    check = AnswerCheck(checker(0.4, seen), 0.6, NO)
    assert "".join(check.stream(iter(["中趾", " [1]"]))) == NO
    assert seen == ["中趾 [1]"] and check.refused and check.probability == 0.4
    check = AnswerCheck(checker(0.9, []), 0.6, NO)
    assert "".join(check.stream(iter(["中趾", " [1]"]))) == "中趾 [1]" and not check.refused


def test_long_answers_and_refusals_are_not_checked():
    seen = []
    long_answer = ["很长的解释。" * (MOST_HELD_CHARS // 6), "后面的内容 [1]"]
    check = AnswerCheck(checker(0.0, seen), 0.6, NO)
    assert "".join(check.stream(iter(long_answer))) == "".join(long_answer)
    check = AnswerCheck(checker(0.0, seen), 0.6, NO)
    assert "".join(check.stream(iter([NO]))) == NO
    assert seen == [] and not check.refused


class CheckedModel(GenericFakeChatModel):
    """Answers, and says how sure it is that a source states its answer (as LocalChatModel does)."""

    probability: float | None = 0.5
    asked: list = []

    def yes_probability(self, messages):
        self.asked.append(messages)
        return self.probability


def checked_chain(probability, **options):
    model = CheckedModel(
        messages=iter([AIMessage(content="后趾 [1]。")]), probability=probability, asked=[]
    )
    passage = Hit(
        text="原蹄兽每只脚有五个趾。",
        score=1.0,
        source="a.md",
        page=None,
        doc_id="d1",
        chunk_id="c1",
        dense_score=0.9,
    )
    c = AnswerChain(
        search=lambda q, k: [passage],
        chat_model=model,
        model_name="fake:m",
        options=ChainOptions(**options),
    )
    return c, model


def test_the_chain_refuses_an_answer_the_model_does_not_find_stated():
    c, model = checked_chain(0.3, min_answer_check=0.9)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert not answer.found and answer.answer == NO and answer.refused_by == "check"
    assert answer.citations == [] and answer.signals["answer_check"] == 0.3
    # shown the source the answer cites, the question and the answer without its marker
    [messages] = model.asked
    assert isinstance(messages[0], SystemMessage) and isinstance(messages[-1], HumanMessage)
    asked = messages[-1].content
    assert "原蹄兽每只脚有五个趾。" in asked and "原蹄兽哪一个脚趾最大？" in asked
    assert "候选答案：后趾" in asked and "[1]" not in asked


def test_the_check_reads_the_cited_sources_or_the_first():
    blocks = [{"n": n, "text": f"第{n}段。"} for n in (1, 2, 3)]
    assert cited_source("甲 [2]，乙 [3]。", blocks) == ("第2段。\n第3段。", "甲 ，乙 。")
    assert cited_source("甲。", blocks) == ("第1段。", "甲。")


@pytest.mark.parametrize(
    "options, found",
    [
        ({"min_answer_check": 0.2}, True),  # sure enough
        ({}, True),  # not asked
        ({"min_answer_check": 0.9, "min_answer_check_en": 0.1}, False),  # a Chinese question
    ],
)
def test_the_bar_is_per_language_and_unset_means_not_asked(options, found):
    c, model = checked_chain(0.3, **options)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert answer.found is found
    assert len(model.asked) == (1 if options else 0)
    assert answer.signals["answer_check"] == (0.3 if options else None)


def test_a_model_that_cannot_check_keeps_its_answer():
    c, model = checked_chain(None, min_answer_check=0.9)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert answer.found and answer.refused_by is None and answer.signals["answer_check"] is None
