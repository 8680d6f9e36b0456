"""The answer chain's own logic (relevance gate, context budget, citations); the real model runs in
test_api.py / test_cli.py, here a scripted chat model makes each branch deterministic."""

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from answering import (
    AnswerChain,
    ChainOptions,
    Done,
    Reading,
    Sources,
    Token,
    relevant_hits,
    tidy_answer,
)
from retrieval import Hit


def hit(n, dense=0.9, keyword=None, text=None, source="a.md", page=None):
    return Hit(
        text=text or f"第{n}段内容。",
        score=1.0 / n,
        source=source,
        page=page,
        doc_id=f"d{n}",
        chunk_id=f"c{n}",
        dense_score=dense,
        keyword_score=keyword,
    )


class CountingModel(GenericFakeChatModel):
    calls: int = 0

    def _stream(self, *args, **kwargs):
        self.calls += 1
        yield from super()._stream(*args, **kwargs)


def chain(hits, reply="答案见 [2]。", **options):
    model = CountingModel(messages=iter([AIMessage(content=reply)]))
    return (
        AnswerChain(
            search=lambda q, k: hits,
            chat_model=model,
            model_name="fake:m",
            options=ChainOptions(**options),
        ),
        model,
    )


def test_nothing_relevant_answers_without_calling_the_model():
    c, model = chain([hit(1, dense=0.70), hit(2, dense=0.65)])
    answer = c.invoke("今天天气怎么样？")
    assert not answer.found and answer.citations == [] and "没有找到" in answer.answer
    assert model.calls == 0 and answer.timings["generate_ms"] == 0


def test_answer_cites_only_what_it_marked_and_streams_tokens():
    c, model = chain([hit(1), hit(2, page=7, source="b.pdf"), hit(3)])
    events = list(c.stream("第二段讲了什么？"))
    kinds = [type(e) for e in events]
    assert kinds[-2:] == [Sources, Done] and kinds.count(Token) >= 2
    answer = events[-1].answer
    assert [(x.n, x.source, x.page) for x in answer.citations] == [(2, "b.pdf", 7)]
    assert model.calls == 1 and answer.timings["total_ms"] >= answer.timings["generate_ms"]


def test_context_budget_limits_what_the_model_sees():
    hits = [hit(i, text="字" * 500) for i in range(1, 6)]  # ~400 estimated tokens each
    c, _ = chain(hits, reply="无标记的回答。", context_tokens=900)
    answer = c.invoke("问题？")
    assert [x.n for x in answer.citations] == [1, 2]  # only the two blocks that fit were given


def test_the_budget_counts_what_the_model_really_reads_when_it_costs_more():
    formulas = "ℓ(ϕ)=Σᵢ αᵢ·xᵢᵀ " * 40  # estimated far below what a tokenizer makes of it
    hits = [hit(i, text=formulas) for i in range(1, 6)]
    c, _ = chain(hits, reply="无标记的回答。", context_tokens=900)
    assert len(c.invoke("问题？").citations) == 5  # by the estimate, all five fit
    c, _ = chain(hits, reply="无标记的回答。", context_tokens=900)
    c.count_tokens = lambda text: 3 * len(text)  # the model's own count: 600 a block
    assert [x.n for x in c.invoke("问题？").citations] == [1]
    # prose the estimate already over-counts keeps its estimated cost
    c, _ = chain(
        [hit(i, text="字" * 500) for i in range(1, 6)], "无标记的回答。", context_tokens=900
    )
    c.count_tokens = lambda text: 1
    assert [x.n for x in c.invoke("问题？").citations] == [1, 2]


def test_relevance_gate():
    assert relevant_hits([hit(1, dense=0.9)], 0.84)
    assert not relevant_hits([hit(1, dense=0.80), hit(2, dense=None, keyword=3.0)], 0.84)
    assert relevant_hits([hit(1, dense=None, keyword=2.0)], 0.84)  # keyword-only mode
    assert not relevant_hits([], 0.84)
    english = hit(1, dense=0.80, text="The Panthers defense gave up 308 points.")
    # a Chinese question, an English passage: the lower bar
    assert relevant_hits([english], 0.84, 0.76, "zh")
    assert not relevant_hits([english], 0.84, 0.76, "en")
    assert not relevant_hits([hit(1, dense=0.80)], 0.84, 0.76, "zh")  # same language: the usual bar


def test_tidy_answer_moves_copied_prefix_and_drops_unknown_markers():
    blocks = [{"n": 1}]
    assert tidy_answer("[1] (a.md, p.3) 十五天", blocks) == "十五天 [1]"
    assert tidy_answer("[1] (a.md, p.3) 十五天[1]。", blocks) == "十五天[1]。"
    assert tidy_answer("[2] (a.md) 十五天。", blocks) == "十五天。"
    assert tidy_answer("是十五天[1][3]。", blocks) == "是十五天[1]。"


class ScriptedStream(GenericFakeChatModel):
    """Streams the reply in the given pieces (markers split across chunks, as real tokenizers
    do)."""

    pieces: list[str]

    def _stream(self, *args, **kwargs):
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        for piece in self.pieces:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def stream_chain(hits, pieces):
    model = ScriptedStream(messages=iter([]), pieces=pieces)
    return AnswerChain(search=lambda q, k: hits, chat_model=model, model_name="fake:m")


def test_streamed_tokens_are_exactly_the_final_answer():
    hits = [hit(1), hit(2, page=7, source="b.pdf")]
    pieces = [
        "  [2] (b.pdf, p",
        ".7) 年假",
        "是十五天",
        "[",
        "1",
        "][",
        "7]",
        "，见【2】",
        "和 [1, 9]。",
        "  \n",
    ]
    events = list(stream_chain(hits, pieces).stream("年假几天？"))
    tokens = [e.text for e in events if isinstance(e, Token)]
    answer = events[-1].answer
    assert "".join(tokens) == answer.answer == "年假是十五天[1]，见[2]和 [1]。"
    # never shown, then taken back
    assert not any("7]" in t or "9" in t or "(b.pdf" in t for t in tokens)
    assert events[0] == Reading(2)


def test_a_first_line_copying_a_sources_heading_is_dropped_while_streaming():
    """Small models start an answer with the heading of the section they copy from; the heading
    line is held back until it is whole, then dropped. A start that only looks like a heading for
    a while is shown in full."""
    hits = [hit(1, text="## 如何删除文档\n在文档列表中选择文档并点击删除。")]
    pieces = ["如何", "删除", "文档", "\n", "在文档列表中", "点击删除", "[1]。"]
    events = list(stream_chain(hits, pieces).stream("那怎么删除呢？"))
    tokens = [e.text for e in events if isinstance(e, Token)]
    assert "".join(tokens) == events[-1].answer.answer == "在文档列表中点击删除[1]。"
    assert not any("如何" in t for t in tokens)
    events = list(stream_chain(hits, ["如何", "删除", "呢：点击删除[1]。"]).stream("怎么删？"))
    assert events[-1].answer.answer == "如何删除呢：点击删除[1]。"
    assert tidy_answer("如何删除文档", [{"n": 1, "text": "# 如何删除文档\n…"}]) == "如何删除文档"


def test_refusal_answer_carries_no_citations():
    hits = [hit(1), hit(2)]
    events = list(
        stream_chain(hits, ["知识库中没有找到", "与该问题相关的内容。"]).stream("火星上有几个人？")
    )
    answer = events[-1].answer
    assert answer.answer == "知识库中没有找到与该问题相关的内容。"
    assert answer.citations == [] and not answer.found


def test_condensed_question_is_what_gets_retrieved():
    seen = []

    def search(query, k):
        seen.append(query)
        return [hit(1)]

    model = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(content="第一段讲了什么内容？\n多余的行"),
                AIMessage(content="讲了年假的天数 [1]。"),
            ]
        )
    )
    c = AnswerChain(search=search, chat_model=model, model_name="fake:m", options=ChainOptions())
    answer = c.invoke(
        "它讲了什么？",
        history=[{"role": "user", "content": "第一段"}, {"role": "assistant", "content": "好的"}],
    )
    assert seen == ["第一段讲了什么内容？"] and answer.query == "第一段讲了什么内容？"
    assert answer.answer == "讲了年假的天数 [1]。"


def test_passages_missing_a_name_of_the_question_are_refused_without_the_model():
    model = CountingModel(messages=iter([AIMessage(content="瞎猜 [1]。")]))
    c = AnswerChain(
        search=lambda q, k: [hit(1, text="广茂铁路设有茂名南站。")],
        chat_model=model,
        model_name="fake:m",
        missing_names=lambda q, passages: [] if "茂名" in q else ["嘉善"],
    )
    answer = c.invoke("嘉善南站由哪个公司管辖？")
    assert not answer.found and answer.citations == [] and model.calls == 0
    assert c.invoke("茂名南站在哪里？").found and model.calls == 1


def sentence_chain(score, **options):
    model = CountingModel(messages=iter([AIMessage(content="中趾 [1]。")]))
    seen: list = []

    def sentence_score(question, passages):
        seen.append(passages)
        return score

    c = AnswerChain(
        search=lambda q, k: [hit(1, text="原蹄兽的中趾最大。"), hit(2, text="Hooves were found.")],
        chat_model=model,
        model_name="fake:m",
        options=ChainOptions(**options),
        sentence_score=sentence_score,
    )
    return c, model, seen


def test_no_sentence_close_to_the_question_refuses_before_the_model():
    c, model, seen = sentence_chain(0.80, min_sentence_score=0.88)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert not answer.found and answer.refused_by == "sentence" and model.calls == 0
    assert answer.signals["best_sentence_score"] == 0.80
    # only the passages in the question's language are scored
    assert seen == [["原蹄兽的中趾最大。"]]


def test_a_sentence_close_enough_lets_the_model_answer():
    c, model, _ = sentence_chain(0.92, min_sentence_score=0.88)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert answer.found and answer.answer.startswith("中趾") and model.calls == 1


def test_the_sentence_bar_is_per_language_and_not_read_when_unset():
    c, model, seen = sentence_chain(0.80, min_sentence_score=None, min_sentence_score_en=0.85)
    assert c.invoke("原蹄兽哪一个脚趾最大？").found and seen == []
    c, model, seen = sentence_chain(0.80, min_sentence_score=0.70, min_sentence_score_en=0.85)
    answer = c.invoke("What were found?")
    assert answer.refused_by == "sentence" and seen == [["Hooves were found."]]


class GatedModel(GenericFakeChatModel):
    """Says how likely it was to start the refusal, and refuses at the threshold, as LocalChatModel
    does."""

    reads_refusal_probability: bool = True
    probability: float = 0.1
    requests: list = []

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        gate = kwargs["refusal_gate"]
        self.requests.append(gate)
        refused = gate["threshold"] is not None and self.probability >= gate["threshold"]
        metadata = {"refusal_probability": self.probability, "refused_by_gate": refused}
        text = gate["text"] if refused else "中趾 [1]。"
        yield ChatGenerationChunk(message=AIMessageChunk(content=text, response_metadata=metadata))


def gated(probability, threshold):
    model = GatedModel(messages=iter([]), probability=probability, requests=[])
    options = ChainOptions(refusal_threshold=threshold, ban_refusal_start=True)
    return (
        AnswerChain(
            search=lambda q, k: [hit(1)], chat_model=model, model_name="fake:m", options=options
        ),
        model,
    )


def test_refusal_probability_at_the_threshold_refuses_and_below_it_answers():
    c, model = gated(0.6, threshold=0.5)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert not answer.found and answer.refused_by == "gate" and answer.citations == []
    assert answer.confidence == pytest.approx(0.4)
    assert model.requests == [
        {"text": "知识库中没有找到与该问题相关的内容。", "threshold": 0.5, "ban": True}
    ]
    c, _ = gated(0.2, threshold=0.5)
    answer = c.invoke("原蹄兽哪一个脚趾最大？")
    assert answer.found and answer.refused_by is None and answer.confidence == pytest.approx(0.8)
    assert answer.signals["refusal_probability"] == 0.2


def test_who_refused_is_told_apart():
    c, _ = chain([hit(1, dense=0.70)])
    assert c.invoke("问题？").refused_by == "relevance"
    c, _ = chain([hit(1)], reply="知识库中没有找到与该问题相关的内容。")
    answer = c.invoke("问题？")
    # a model that cannot say how sure
    assert answer.refused_by == "model" and answer.confidence is None


def test_english_relevance_bar_is_its_own():
    english = hit(1, dense=0.80, text="The Panthers defense gave up 308 points.")
    c, model = chain([english], reply="308 [1].", min_dense_score_en=0.78)
    assert c.invoke("How many points did the Panthers defense give up?").found
    c, model = chain([english], reply="308 [1].")
    assert c.invoke("How many points did the Panthers defense give up?").refused_by == "relevance"
