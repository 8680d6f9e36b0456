"""The refusal decision with the real default model (Qwen2.5-Coder-1.5B) over a small knowledge
base:
a question whose words the knowledge base does not hold is answered from the passage that states the
fact (also when the passage says "he"), and a question about something the knowledge base does not
hold is refused. Default settings: the ones bench/answers/qa.py's tuning half chose."""

import pytest

pytestmark = pytest.mark.slow  # the real model: `make check` leaves it out

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

from app.operations import AskOptions, Operations  # noqa: E402
from app.settings import Settings  # noqa: E402

PASSAGES = {
    "原蹄兽.md": (
        "# 原蹄兽\n\n原蹄兽是一类生活在古新世的原始有蹄类哺乳动物，化石发现于北美洲和欧洲。"
        "它的体型与狗相近，"
        "四肢较短，每只脚有五个趾，其中中趾最大。原蹄兽以植物为食。\n"
    ),
    "第三任国王.md": (
        "# 第三任国王\n\n吉格梅·多吉·旺楚克是不丹的第三任国王，1952年即位。他废除了农奴制，"
        "设立了国民议会。"
        "在农业方面，他鼓励使用现代工具来帮助本地农民，并修建了公路和学校。\n"
    ),
    "clergy.md": (
        "# Clergy\n\nClergy are the formal leaders within established religions. Their roles differ"
        " between traditions. In many Protestant churches they usually serve as pastors in local"
        " congregations, leading worship and teaching.\n"
    ),
}


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    folder = tmp_path_factory.mktemp("passages")
    for name, text in PASSAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    ops = Operations.from_settings(
        Settings(
            data_dir=tmp_path_factory.mktemp("refusal-e2e"),
            local_model="qwen2.5-coder-1.5b",
            llm_provider="local",
            llm_temperature=0.0,
            _env_file=None,
        )
    )
    stats = ops.knowledge.ingest("small", [(folder / name, name) for name in PASSAGES])
    assert [o.status for o in stats.outcomes] == ["indexed"] * 3, stats.outcomes
    return ops.answers.chain(AskOptions("small"))


def test_question_whose_words_the_knowledge_base_lacks_is_answered(chain):
    # 脚趾 is nowhere in the knowledge base; the passage says 中趾
    answer = chain.invoke("原蹄兽哪一个脚趾最大？")
    assert answer.found and "中趾" in answer.answer, answer
    assert answer.confidence is not None and answer.citations[0].source == "原蹄兽.md"


@pytest.mark.xfail(
    reason=(
        "known failure: the model's own refusal probability here is about 0.28, so it starts"
        " the refusal sentence itself in some runs (after other questions; alone it answered),"
        " (docs/benchmarks-history.md, 'Refusals on a half nobody tuned on')"
    ),
    strict=False,
)
def test_fact_stated_about_he_answers_the_question(chain):
    answer = chain.invoke("吉格梅·多吉·旺楚克鼓励使用什么来帮助本地农民？")
    assert answer.found and "现代工具" in answer.answer, answer


def test_english_answer_from_a_passage_about_they(chain):
    answer = chain.invoke("Clergy usually serve as what in local congregations?")
    assert answer.found and "pastor" in answer.answer.lower(), answer


@pytest.mark.parametrize(
    "question", ["嘉善南站由哪个公司管辖？", "Who coached the Denver Broncos in 2015?"]
)
def test_out_of_kb_question_is_refused(chain, question):
    answer = chain.invoke(question)
    assert not answer.found and answer.citations == [] and answer.refused_by is not None, answer
