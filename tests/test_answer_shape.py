"""An answer's shape: it stops where it starts saying itself again, and a fragment ("[1]", a name's
first character) is asked once more. Scripted chat models make each case deterministic; no model
runs."""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

import prompts
from answering import AnswerChain, Token
from answering.fragments import is_fragment
from answering.repetition import RepetitionGuard, find_repetition
from retrieval import Hit

EXPLAINED = (
    "对偶问题的推导分为几步：\n1. 理解对偶问题的定义 [1]。\n2."
    " 推导式(6.6)：拉格朗日函数对w求偏导并令其为零。\n"
    "3. 代回得到式(6.11)。\n4. 总结\n因此，对偶问题由此得到 [1]。\n"
)
RESTARTED = EXPLAINED + "1. 理解对偶问题的定义 [1]。\n2. **推导式(6.6)**：拉格朗日函数"


def test_a_numbered_list_restarting_is_cut_where_it_restarts():
    assert RESTARTED[: find_repetition(RESTARTED)] == EXPLAINED


def test_a_sentence_said_twice_is_cut_but_not_a_second_list_or_a_short_sentence():
    said_twice = "年假是十五天 [1]。员工可以分次休假。年假是十五天 [2]。"
    assert said_twice[: find_repetition(said_twice)] == "年假是十五天 [1]。员工可以分次休假。"
    assert (
        find_repetition("步骤：\n1. 打开设置页面\n2. 选择账户\n注意：\n1. 备份数据后再删除账户")
        is None
    )
    assert find_repetition("是的。他来了。是的。") is None  # too short to count
    english = (
        "The Panthers allowed 308 points. They ranked sixth. The Panthers allowed 308 points in"
        " total."
    )
    # a restatement with 20 letters in common is not a repeat
    assert find_repetition(english) is None
    assert find_repetition(english + " The Panthers allowed 308 points.", final=True) is not None


def test_the_guard_streams_exactly_the_text_before_the_repeat_and_stops_the_model():
    pieces = [RESTARTED[i : i + 3] for i in range(0, len(RESTARTED), 3)] + ["不应读到这里"] * 50
    source = iter(pieces)
    guard = RepetitionGuard()
    shown = list(guard.stream(source))
    assert "".join(shown) == EXPLAINED and guard.stopped
    assert next(source, None) is not None  # the rest was never asked for
    plain = RepetitionGuard()
    assert (
        "".join(plain.stream(iter(["年假", "是十五天", " [1]。"]))) == "年假是十五天 [1]。"
        and not plain.stopped
    )


def test_fragments():
    assert (
        is_fragment("[1]", "年假几天？")
        and is_fragment(" [1][2]。", "年假几天？")
        and is_fragment("", "q")
    )
    # the name's first character, before a rare one
    assert is_fragment("李", "李䶮建立了哪个政权？")
    assert not is_fragment("南汉 [1]", "李䶮建立了哪个政权？") and not is_fragment(
        "中趾", "原蹄兽哪一个脚趾最大？"
    )
    # the question said back and cited: no answer in it (seen on 3 of 10 explanatory book questions)
    assert is_fragment(
        "对数几率回归的似然函数对 β 的二阶导数为 [3]。",
        "对数几率回归的似然函数对 β 的二阶导数怎么求？",
    )
    assert is_fragment(
        "梯形的上底和下底分别是 [1] 和 [2]。", "梯形的上底和下底分别是怎么推导出来的？"
    )
    assert is_fragment(
        "[1] (book.pdf, p.23) 梯形的上底和下底分别是 [2]。",
        "梯形的上底和下底分别是怎么推导出来的？",
    )
    # still being copied
    assert is_fragment("[1] (book.pdf, p.2", "梯形的上底和下底分别是怎么推导出来的？")
    # a run of the question begun
    assert is_fragment("梯", "梯形的上底和下底分别是怎么推导出来的？", final=False)
    assert not is_fragment(
        "《战国无双3》是由光荣和ω-force开发的 [1]", "《战国无双3》是由哪两个公司合作开发的？"
    )
    assert not is_fragment("6号车间 [1]", "编号6的零件由几号车间生产？")
    assert not is_fragment("是", "他是不是作者？") and not is_fragment(
        "李䶮 [1]", "建立南汉的是李䶮还是刘岩？"
    )
    assert not is_fragment("6", "编号6的零件由几号车间生产？")


class Replies(GenericFakeChatModel):
    """Streams each reply in turn, in small pieces; records the sources' order of each prompt."""

    replies: list[str]
    prompts: list[str] = []

    def _stream(self, messages, *args, **kwargs):
        self.prompts.append(messages[-1].text)
        reply = self.replies[len(self.prompts) - 1]
        for i in range(0, len(reply), 2):
            yield ChatGenerationChunk(message=AIMessageChunk(content=reply[i : i + 2]))


def ask(replies: list[str], question: str):
    hits = [
        Hit(
            text=f"第{n}段：李䶮于917年建立南汉。",
            score=1.0 / n,
            source="a.md",
            page=None,
            doc_id=f"d{n}",
            chunk_id=f"c{n}",
            dense_score=0.9,
        )
        for n in (1, 2)
    ]
    model = Replies(messages=iter([]), replies=replies, prompts=[])
    events = list(
        AnswerChain(search=lambda q, k: hits, chat_model=model, model_name="fake:m").stream(
            question
        )
    )
    return events, model


def test_a_fragment_is_asked_again_with_the_sources_reversed():
    events, model = ask(["李", "李䶮建立了南汉 [1]。"], "李䶮建立了哪个政权？")
    answer = events[-1].answer
    assert answer.answer == "李䶮建立了南汉 [1]。" and answer.fragments == 1
    # the fragment never shown
    assert "".join(e.text for e in events if isinstance(e, Token)) == answer.answer
    first, second = model.prompts
    assert first.index("第1段") < first.index("第2段") and second.index("第2段") < second.index(
        "第1段"
    )
    assert "“李䶮”" in second and "“李䶮”" not in first  # a note: the answer without the name


def test_a_whole_answer_is_not_asked_again_and_a_second_fragment_is_counted():
    events, model = ask(["南汉 [1]。"], "李䶮建立了哪个政权？")
    assert events[-1].answer.fragments == 0 and len(model.prompts) == 1
    events, model = ask(["[1]", "[2]"], "李䶮建立了哪个政权？")
    assert events[-1].answer.fragments == 2 and len(model.prompts) == 2
    # citations alone twice: kept (a small model failing to write), not turned into a refusal
    assert events[-1].answer.refused_by is None


def test_two_answers_that_only_say_the_question_back_become_the_refusal():
    events, model = ask(["南汉属于南汉 [1]。", "南汉属于南汉。"], "南汉属于什么政权？")
    answer = events[-1].answer
    assert len(model.prompts) == 2 and answer.fragments == 2
    assert answer.answer == prompts.NO_ANSWER["zh"] and not answer.found
    assert answer.refused_by == "model" and answer.signals["no_answer_twice"]
    assert answer.citations == []
    # one such answer, then a real one: answered
    events, _ = ask(["南汉属于南汉 [1]。", "南汉是五代十国之一 [2]。"], "南汉属于什么政权？")
    assert events[-1].answer.found and not events[-1].answer.signals["no_answer_twice"]
    # a name's first character twice: the name is in the sources, so it is kept, not refused
    events, _ = ask(["李", "李"], "李䶮建立了哪个政权？")
    assert events[-1].answer.answer == "李" and events[-1].answer.refused_by is None


def test_an_answer_that_repeats_itself_ends_before_the_repeat():
    events, _ = ask([RESTARTED], "对偶问题是怎么推导出来的？")
    answer = events[-1].answer
    assert answer.answer == EXPLAINED.strip() and answer.repetition_cut
    # counted from the pieces the model wrote
    assert 0 < answer.usage["output_tokens"] < len(RESTARTED)
