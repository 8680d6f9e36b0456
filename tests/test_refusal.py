"""The refusal decision in one place (answering.refusal): the evidence read for one answer, the one
function that decides from it, and the chain that calls it; a scripted chat model makes each branch
deterministic."""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from answering import AnswerChain, ChainOptions, Evidence, RefusalConfig, decide
from retrieval import Hit

NO_ANSWER_ZH = "知识库中没有找到与该问题相关的内容。"


def hit(n, dense=0.9, keyword=None, text=None):
    text = text or f"第{n}段内容。"
    return Hit(
        text, 1.0 / n, "a.md", None, f"d{n}", f"c{n}", dense_score=dense, keyword_score=keyword
    )


class CountingModel(GenericFakeChatModel):
    calls: int = 0

    def _stream(self, *args, **kwargs):
        self.calls += 1
        yield from super()._stream(*args, **kwargs)


def chain(hits, reply="答案见 [1]。", missing_names=None, **config):
    model = CountingModel(messages=iter([AIMessage(content=reply), AIMessage(content=reply)]))
    options = ChainOptions(refusal=RefusalConfig(**config))
    c = AnswerChain(lambda q, k: hits, model, "fake:m", options, missing_names=missing_names)
    return c, model


def relevant(hits, lang="zh", **config):
    return decide(Evidence.of_hits(hits, lang), RefusalConfig(**config)) is None


def test_the_relevance_bar_reads_the_best_dense_passage():
    assert relevant([hit(1, dense=0.9)])
    assert not relevant([hit(1, dense=0.80), hit(2, dense=None, keyword=3.0)])
    assert relevant([hit(1, dense=None, keyword=2.0)])  # keyword-only mode
    assert not relevant([hit(1, dense=None, keyword=None)])
    assert not relevant([])


def test_a_passage_in_the_other_language_is_held_to_the_cross_language_bar():
    english = hit(1, dense=0.80, text="The Panthers defense gave up 308 points.")
    assert relevant([english], "zh")  # a Chinese question, an English passage: the lower bar
    assert not relevant([english], "en")
    assert not relevant([hit(1, dense=0.80)], "zh")  # same language: the usual bar
    assert not relevant([english], "zh", min_cross_lingual_score=None)  # one bar for all


def test_english_questions_have_a_bar_of_their_own():
    english = hit(1, dense=0.80, text="The Panthers defense gave up 308 points.")
    assert relevant([english], "en", min_dense_score_en=0.78)
    assert not relevant([english], "en")


@pytest.mark.parametrize(
    "evidence, expected",
    [
        (Evidence("zh", passages=0), "relevance"),
        (Evidence("zh", passages=2, best_dense_score=0.9, missing_names=["嘉善"]), "names"),
        (Evidence("zh", passages=2, best_dense_score=0.9, model_refused=True), "model"),
        (Evidence("zh", passages=2, best_dense_score=0.9, missing_names=[]), None),
        # read and recorded, gating nothing
        (Evidence("zh", passages=2, best_dense_score=0.9, refusal_probability=0.99), None),
        (Evidence("zh", passages=2, best_dense_score=0.9, span_logprob=-9.0), None),
    ],
)
def test_decide_names_who_refuses(evidence, expected):
    assert decide(evidence, RefusalConfig()) == expected


def test_the_name_check_can_be_turned_off():
    evidence = Evidence("zh", passages=1, best_dense_score=0.9, missing_names=["嘉善"])
    assert decide(evidence, RefusalConfig(check_names=False)) is None


def test_nothing_relevant_is_refused_without_calling_the_model():
    c, model = chain([hit(1, dense=0.70), hit(2, dense=0.65)])
    answer = c.invoke("今天天气怎么样？")
    assert not answer.found and answer.refused_by == "relevance" and answer.citations == []
    assert model.calls == 0 and answer.timings["generate_ms"] == 0
    assert answer.signals["best_dense_score"] == 0.7


def test_passages_missing_a_name_of_the_question_are_refused_without_the_model():
    names = lambda q, passages: [] if "茂名" in q else ["嘉善"]  # noqa: E731
    c, model = chain([hit(1, text="广茂铁路设有茂名南站。")], "广茂铁路 [1]。", names)
    answer = c.invoke("嘉善南站由哪个公司管辖？")
    assert not answer.found and answer.refused_by == "names" and model.calls == 0
    assert answer.signals["missing_names"] == ["嘉善"] and answer.citations == []
    assert c.invoke("茂名南站在哪里？").found and model.calls == 1
    # turned off: not even read
    c, model = chain([hit(1)], "广茂铁路 [1]。", names, check_names=False)
    answer = c.invoke("嘉善南站由哪个公司管辖？")
    assert answer.found and "missing_names" not in answer.signals


def test_the_model_writing_the_refusal_is_its_own_refusal():
    c, _ = chain([hit(1)], reply=NO_ANSWER_ZH)
    answer = c.invoke("问题？")
    # a model that cannot say how sure it was
    assert answer.refused_by == "model" and answer.confidence is None and answer.citations == []


class ProbabilityModel(GenericFakeChatModel):
    """Reports its probability of starting the refusal, as LocalChatModel does when asked."""

    reads_refusal_probability: bool = True
    probability: float = 0.1
    asked: list = []

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        self.asked.append(kwargs.get("refusal_probability_of"))
        metadata = {"refusal_probability": self.probability}
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="中趾 [1]。", response_metadata=metadata)
        )


def test_the_refusal_probability_is_recorded_and_refuses_nothing():
    model = ProbabilityModel(messages=iter([]), probability=0.9, asked=[])
    c = AnswerChain(lambda q, k: [hit(1)], model, "fake:m")
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert model.asked == [NO_ANSWER_ZH]  # asked with the question's language's refusal
    assert answer.found and answer.refused_by is None and answer.answer == "中趾 [1]。"
    assert answer.signals["refusal_probability"] == 0.9
    assert answer.confidence == pytest.approx(0.1)


def test_weak_evidence_is_judged_by_the_margin_above_the_bar_and_the_confidence():
    """Issue 38, item 5: the notice's test (answering.refusal.is_weak), read after the model
    answered; it refuses nothing."""
    from answering.refusal import Evidence, RefusalConfig, is_weak

    config = RefusalConfig(weak_margin=0.03, weak_confidence=0.8)
    near = Evidence("zh", passages=3, best_dense_score=0.88, best_dense_lang="zh")
    assert is_weak(near, config)  # 0.015 above the zh bar 0.865
    clear = Evidence("zh", passages=3, best_dense_score=0.93, best_dense_lang="zh")
    assert not is_weak(clear, config)
    clear.refusal_probability = 0.35  # the model is unsure (confidence 0.65 < 0.8)
    assert is_weak(clear, config)
    english = Evidence("en", passages=3, best_dense_score=0.83, best_dense_lang="en")
    assert is_weak(english, config)  # 0.02 above the English bar 0.81
    english.best_dense_score = 0.85
    assert not is_weak(english, config)
    assert not is_weak(near, RefusalConfig(weak_margin=None, weak_confidence=None))
