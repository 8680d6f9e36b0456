"""Prompt templates: language choice, overrides, completion-form ending, context numbering."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from prompts import (
    NO_ANSWER,
    TEMPLATE_NAMES,
    answer_messages,
    condense_messages,
    detect_language,
    estimate_tokens,
    format_context,
    judge_messages,
    load_template,
)

BLOCKS = [
    {"n": 1, "source": "handbook.pdf", "page": 3, "text": "年假为每年\n 十五天。"},
    {"n": 2, "source": "faq.md", "page": None, "text": "报销需在 30 天内提交。"},
]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("年假有多少天？", "zh"),
        ("What is the refund policy?", "en"),
        ("请解释 transformer 的 attention 机制", "zh"),
        ("How does 张三 handle the quarterly report for the sales team?", "en"),
        ("RAG是什么", "zh"),
        ("", "en"),
        ("12345 ???", "en"),
    ],
)
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_every_template_exists_in_both_languages():
    for name in TEMPLATE_NAMES:
        for lang in ("zh", "en"):
            assert load_template(name, lang).strip()


def test_format_context_numbers_and_cites_sources():
    assert (
        format_context(BLOCKS)
        == "[1] (handbook.pdf, p.3)\n年假为每年\n十五天。\n\n[2] (faq.md)\n报销需在 30 天内提交。"
    )
    assert (
        format_context([{"text": "a"}, {"text": "b", "source": "x.txt"}])
        == "[1]\na\n\n[2] (x.txt)\nb"
    )
    # blank lines folded
    assert format_context([{"text": "# 标题\n\n\n  正文   一行\n"}]) == "[1]\n# 标题\n正文 一行"
    assert format_context([]) == ""


def test_answer_prompt_rules_in_system_sources_and_question_in_user_zh():
    messages = answer_messages("年假有多少天？", BLOCKS)
    assert isinstance(messages[0], SystemMessage) and isinstance(messages[-1], HumanMessage)
    assert (
        NO_ANSWER["zh"] in messages[0].content
        and "[1]" in messages[0].content
        and "中文" in messages[0].content
    )
    assert messages[-1].content.startswith(
        "资料：\n[1] (handbook.pdf, p.3)\n年假为每年\n十五天。\n\n[2] (faq.md)\n报销需在 30"
        " 天内提交。\n\n问题：年假有多少天？\n"
    )
    assert "[1]" in messages[-1].content.split("问题：")[1]  # the reminder after the question


def test_answer_prompt_rules_in_system_sources_and_question_in_user_en():
    blocks = [{"n": 1, "source": "a.txt", "text": "Refunds take 5 days."}]
    messages = answer_messages("How long do\nrefunds take?", blocks)
    assert NO_ANSWER["en"] in messages[0].content and "exactly this sentence" in messages[0].content
    assert messages[-1].content.startswith(
        "Sources:\n[1] (a.txt)\nRefunds take 5 days.\n\n"
        "Question: How long do refunds take?\nAnswer from the sources above"
    )


def test_sources_in_the_other_language_are_said_after_the_question():
    english = answer_messages("How many days of leave?", BLOCKS, sources_lang="zh")[-1].content
    assert english.endswith(
        "the sources are in Chinese and may hold the answer: read them, then answer in English."
    )
    chinese = answer_messages("年假有多少天？", BLOCKS, sources_lang="en")[-1].content
    assert chinese.endswith("资料是英文的，答案可能就在其中：请读懂后用中文回答。")
    for same in (
        answer_messages("年假有多少天？", BLOCKS, sources_lang="zh"),
        answer_messages("年假有多少天？", BLOCKS),
        answer_messages("How many days of leave?", [], sources_lang="zh"),
    ):
        assert "资料是英文的" not in same[-1].content and "Note:" not in same[-1].content


def test_explicit_language_wins_over_detection():
    assert (
        "\nQuestion: 年假有多少天？\n"
        in answer_messages("年假有多少天？", BLOCKS, lang="en")[-1].content
    )


def test_placeholders_inside_documents_are_not_expanded():
    blocks = [{"text": 'literal {question} and {"score": 1}'}]
    text = answer_messages("Why?", blocks)[-1].content
    assert 'literal {question} and {"score": 1}' in text
    assert "\nQuestion: Why?\n" in text


def test_estimate_tokens_counts_han_characters_higher_than_latin():
    assert estimate_tokens("") == 1
    assert 75 <= estimate_tokens("字" * 100) <= 85
    assert 20 <= estimate_tokens("word " * 20) <= 30


def test_override_dir_wins(tmp_path):
    (tmp_path / "answer_en.txt").write_text(
        "[user]\nDocs:\n{context}\nQ: {question}\nA:", encoding="utf-8"
    )
    messages = answer_messages("Why?", [{"text": "Because."}], override_dir=str(tmp_path))
    assert len(messages) == 1
    assert messages[0].content == "Docs:\n[1]\nBecause.\nQ: Why?\nA:"
    # names not overridden fall back to the packaged templates
    assert (
        "问题：为什么？" in answer_messages("为什么？", [], override_dir=str(tmp_path))[-1].content
    )
    assert load_template("answer", "en", override_dir=str(tmp_path / "missing")) == load_template(
        "answer", "en"
    )


def test_template_without_sections_is_one_user_message(tmp_path):
    (tmp_path / "condense_en.txt").write_text("History: {history} / {question}", encoding="utf-8")
    messages = condense_messages(
        [{"role": "user", "content": "hi"}], "and then?", override_dir=str(tmp_path)
    )
    assert [m.content for m in messages] == ["History: User: hi / and then?"]


def test_bad_names_are_rejected():
    with pytest.raises(ValueError):
        load_template("../secrets", "en")
    with pytest.raises(ValueError):
        load_template("answer", "fr")
    with pytest.raises(FileNotFoundError):
        load_template("nonexistent", "en")


def test_condense_renders_history():
    history = [
        {"role": "user", "content": "公司年假怎么算？"},
        {"role": "assistant", "content": "每年十五天[1]。"},
    ]
    messages = condense_messages(history, "那病假呢？")
    assert (
        messages[-1].content == "对话历史：\n用户：公司年假怎么算？\n助手：每年十五天[1]。\n"
        "后续问题：那病假呢？\n独立问题："
    )


@pytest.mark.parametrize("kind", ["faithfulness", "relevance"])
def test_judge_messages_ask_for_json_score(kind):
    messages = judge_messages(
        kind, "How long?", "Five days [1].", [{"text": "Refunds take 5 days."}]
    )
    assert '{"score"' in messages[0].content and "1-5" in messages[0].content
    assert (
        messages[-1].content
        == "Context:\n[1]\nRefunds take 5 days.\nQuestion: How long?\nAnswer: Five days [1].\nJSON:"
    )
    zh = judge_messages(kind, "多久？", "五天。", "退款需要五天。")
    assert zh[-1].content.startswith("资料：\n退款需要五天。") and "评分 1–5" in zh[0].content
    with pytest.raises(ValueError):
        judge_messages("style", "q", "a", "c")  # type: ignore[arg-type]


def test_loop_guard_for_the_small_local_model():
    from llm_backends.local_engine import is_looping

    assert is_looping("南瓜书是西瓜书的" + "".join(f"第{i}章，" for i in range(1, 12)))
    assert is_looping("ha" * 30)
    assert not is_looping("南瓜书是对西瓜书中公式的推导和解析，适合初学者在学习机器学习时查阅。")
    assert not is_looping("1, 2, 3")


def test_caller_instructions_follow_the_rules_in_the_system_message():
    from prompts import answer_messages

    blocks = [{"n": 1, "source": "a.md", "page": None, "text": "年假十五天。"}]
    plain = answer_messages("年假几天？", blocks, "zh")
    extra = answer_messages("年假几天？", blocks, "zh", instructions="请用一句话回答。")
    assert extra[0].type == "system" and extra[0].content.startswith(plain[0].content)
    assert extra[0].content.endswith("请用一句话回答。") and extra[1:] == plain[1:]
