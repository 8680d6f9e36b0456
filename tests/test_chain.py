"""The answer chain's own logic (relevance gate, context budget, citations); the real model runs in
test_api.py / test_cli.py, here a scripted chat model makes each branch deterministic."""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from app.chain import AnswerChain, ChainOptions, relevant_hits, tidy_answer
from retrieval import Hit


def hit(n, dense=0.9, keyword=None, text=None, source="a.md", page=None):
    return Hit(text=text or f"第{n}段内容。", score=1.0 / n, source=source, page=page, doc_id=f"d{n}",
               chunk_id=f"c{n}", dense_score=dense, keyword_score=keyword)


class CountingModel(GenericFakeChatModel):
    calls: int = 0

    def _stream(self, *args, **kwargs):
        self.calls += 1
        yield from super()._stream(*args, **kwargs)


def chain(hits, reply="答案见 [2]。", **options):
    model = CountingModel(messages=iter([AIMessage(content=reply)]))
    return AnswerChain(search=lambda q, k: hits, chat_model=model, model_name="fake:m",
                       options=ChainOptions(**options)), model


def test_nothing_relevant_answers_without_calling_the_model():
    c, model = chain([hit(1, dense=0.70), hit(2, dense=0.65)])
    answer = c.invoke("今天天气怎么样？")
    assert not answer.found and answer.citations == [] and "没有找到" in answer.answer
    assert model.calls == 0 and answer.timings["generate_ms"] == 0


def test_answer_cites_only_what_it_marked_and_streams_tokens():
    c, model = chain([hit(1), hit(2, page=7, source="b.pdf"), hit(3)])
    events = list(c.stream("第二段讲了什么？"))
    kinds = [k for k, _ in events]
    assert kinds[-2:] == ["citations", "answer"] and kinds.count("token") >= 2
    answer = events[-1][1]
    assert [(x.n, x.source, x.page) for x in answer.citations] == [(2, "b.pdf", 7)]
    assert model.calls == 1 and answer.timings["total_ms"] >= answer.timings["generate_ms"]


def test_context_budget_limits_what_the_model_sees():
    hits = [hit(i, text="字" * 500) for i in range(1, 6)]
    c, _ = chain(hits, reply="无标记的回答。", context_chars=1200)
    answer = c.invoke("问题？")
    assert [x.n for x in answer.citations] == [1, 2]  # only the two blocks that fit were given


def test_relevance_gate():
    assert relevant_hits([hit(1, dense=0.9)], 0.84)
    assert not relevant_hits([hit(1, dense=0.80), hit(2, dense=None, keyword=3.0)], 0.84)
    assert relevant_hits([hit(1, dense=None, keyword=2.0)], 0.84)  # keyword-only mode
    assert not relevant_hits([], 0.84)


def test_tidy_answer_moves_copied_prefix_and_drops_unknown_markers():
    blocks = [{"n": 1}]
    assert tidy_answer("[1] (a.md, p.3) 十五天", blocks) == "十五天 [1]"
    assert tidy_answer("[2] (a.md) 十五天。", blocks) == "十五天。"
    assert tidy_answer("是十五天[1][3]。", blocks) == "是十五天[1]。"
