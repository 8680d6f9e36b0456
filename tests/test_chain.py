"""The answer chain's own logic (relevance gate, context budget, citations); the real model runs in
test_api.py / test_cli.py, here a scripted chat model makes each branch deterministic."""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from answering import (
    AnswerChain,
    ChainOptions,
    Done,
    Reading,
    Sources,
    Token,
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
