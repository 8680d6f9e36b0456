"""The evaluation protocol's split: a passage and its questions land in one half only, and the
near-miss passage keeps its subject but loses the answer."""

import json
from pathlib import Path

import pytest

from eval import QAItem, load_qa_set
from eval.splits import (
    FIRST_DISJOINT_DRAW,
    build_kb_questions,
    fresh_draw,
    half_of,
    in_draw_order,
    sentences,
    split_by_passage,
    without_answer,
)

QA = Path(__file__).resolve().parents[2] / "shared/qa"


def item(n, context, answers=("答案",), title=None):
    return QAItem(
        id=f"q{n}", question=f"问题{n}？", answers=list(answers), context=context, title=title
    )


def test_every_passage_is_in_exactly_one_half():
    # three questions per passage
    items = [item(i, f"第{i // 3}段。答案在这里。") for i in range(300)]
    halves = split_by_passage(items)
    tune = {i.context for i in halves["tune"]}
    report = {i.context for i in halves["report"]}
    assert not tune & report and len(tune | report) == 100
    assert 30 < len(tune) < 70  # a hash, not an ordering: both halves get a fair share
    assert half_of("同一段文字") == half_of("同一段文字")


@pytest.mark.skipif(not QA.is_dir(), reason="needs ../shared/qa")
def test_shared_sets_split_with_no_passage_in_both_halves():
    for name in ("cmrc2018_dev_part1.jsonl", "squad1.1_dev_part1.jsonl"):
        halves = split_by_passage(load_qa_set(QA / name))
        assert not {i.context for i in halves["tune"]} & {i.context for i in halves["report"]}
    # a translated set splits by its English twin: the same passage in both languages is in one half
    en = {i.id: i.context for i in load_qa_set(QA / "xquad_en.jsonl")}
    zh = split_by_passage(load_qa_set(QA / "xquad_zh.jsonl"), key=lambda i: en.get(i.id))
    en_halves = split_by_passage(load_qa_set(QA / "xquad_en.jsonl"))
    assert {i.id for i in zh["tune"]} == {i.id for i in en_halves["tune"]}


def test_a_new_draw_asks_other_passages_first_and_keeps_each_passages_questions_together():
    items = [item(i, f"第{i // 3}段。答案在这里。") for i in range(60)]
    assert in_draw_order(items, 0) == items
    one, two = in_draw_order(items, 1), in_draw_order(items, 2)
    assert sorted(i.id for i in one) == sorted(i.id for i in items)  # the same items, reordered
    first = build_kb_questions(items, 5, 5, 0, 0).answerable
    assert [i.context for i in build_kb_questions(one, 5, 5, 0, 0).answerable] != [
        i.context for i in first
    ]
    assert one != two and in_draw_order(items, 1) == one  # each draw is its own, and repeatable
    for order in (one, two):
        contexts = [i.context for i in order]
        # a passage's three questions are next to each other, in file order
        assert all(contexts[n] == contexts[n - n % 3] for n in range(len(contexts)))
        numbers = [int(i.id[1:]) for i in order]
        assert all(numbers[n] < numbers[n + 1] < numbers[n + 2] for n in range(0, 60, 3))


def test_a_fresh_draw_leaves_out_every_passage_draw_0_asked_about():
    items = [item(i, f"第{i // 3}段。答案在这里。") for i in range(120)]
    assert fresh_draw(items, 0, 10, 5, 2, 2) == items
    ids = {i.id for i in build_kb_questions(items, 10, 15, 10, 10).questions()}
    asked = {i.context for i in items if i.id in ids}  # near misses are asked over a cut passage
    drawn = fresh_draw(items, 1, 10, 5, 2, 2)
    assert asked and drawn and not {i.context for i in drawn} & asked
    assert {i.context for i in drawn} == {i.context for i in items} - asked


def test_draws_from_the_first_disjoint_one_ask_about_no_passage_an_earlier_draw_asked():
    items = [item(i, f"第{i // 3}段。答案在这里。") for i in range(900)]

    def asked(draw, size):
        drawn = fresh_draw(items, draw, size, 10, 5, 5)
        ids = {i.id for i in build_kb_questions(drawn, size, 10, 5, 5).questions()}
        return {i.context for i in items if i.id in ids}

    earlier = set().union(*(asked(d, s) for d in range(FIRST_DISJOINT_DRAW) for s in (25, 200)))
    for size in (25, 200):
        new = asked(FIRST_DISJOINT_DRAW, size)
        assert len(new) >= 15 and not new & earlier


def test_near_miss_passage_loses_the_answer_sentence_only():
    context = "原蹄兽是一种古代哺乳动物。它的中趾最大。化石发现于北美洲。"
    assert sentences(context) == [
        "原蹄兽是一种古代哺乳动物。",
        "它的中趾最大。",
        "化石发现于北美洲。",
    ]
    assert without_answer(context, ["中趾"]) == "原蹄兽是一种古代哺乳动物。化石发现于北美洲。"
    english = (
        "Clergy serve in many roles. They usually serve as pastors in local congregations. Some"
        " teach."
    )
    assert without_answer(english, ["pastors"]) == "Clergy serve in many roles. Some teach."
    assert without_answer("答案。", ["答案"]) is None  # nothing would be left


def test_knowledge_base_questions_never_share_a_passage_across_kinds():
    items = [
        item(
            i,
            f"第{i}段讲第{i}件事。第{i}件事的答案是{i}号。其余的话。",
            answers=[f"{i}号"],
            title=f"t{i}",
        )
        for i in range(40)
    ]
    kbq = build_kb_questions(items, kb_size=25, n_answerable=10, n_out_of_kb=5, n_near_miss=5)
    assert len(kbq.passages) == 25 and len(kbq.answerable) == 10 and len(kbq.near_miss) == 5
    assert len(kbq.out_of_kb) == 5
    in_kb = {p.title for p in kbq.passages}
    assert not in_kb & {q.title for q in kbq.out_of_kb}  # out-of-KB articles are wholly left out
    for q in kbq.near_miss:  # the knowledge base holds the cut passage, never the answer
        assert not q.answers and all(
            f"{q.id[1:]}号" not in p.context for p in kbq.passages if p.title == q.title
        )
    assert all(q.context in {p.context for p in kbq.passages} for q in kbq.answerable)
    json.dumps([q.question for q in kbq.questions()])  # plain data


def test_kb_eval_reads_one_half(tmp_path):
    from app.operations.evaluation import load_items

    rows = [
        {
            "id": f"q{i}",
            "question": f"问题{i}？",
            "answers": ["答案"],
            "context": f"第{i}段。答案。",
        }
        for i in range(40)
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    tune, report = load_items(path, half="tune"), load_items(path, half="report")
    assert len(tune) + len(report) == 40 and not {i.id for i in tune} & {i.id for i in report}
    with pytest.raises(ValueError, match="--half"):
        load_items(path, half="test")
