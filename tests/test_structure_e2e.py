"""A structure question answered end to end with the default local model: the chapter's section
titles named and its pages cited, streamed as the usual events; a fact question still goes the
usual way."""

import pytest

pytestmark = pytest.mark.slow  # `make check` leaves it out; `make test` runs it

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

from answering import Done, Sources, Token  # noqa: E402
from app.operations import AskOptions, Operations  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.test_outline import book_pdf  # noqa: E402


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    root = tmp_path_factory.mktemp("structure")
    ops = Operations.from_settings(
        Settings(
            data_dir=root / "data",
            seed_dir=root / "seed",
            local_model="qwen2.5-coder-1.5b",
            llm_temperature=0.0,
            _env_file=None,
        )
    )
    stats = ops.knowledge.ingest("书", [(book_pdf(root / "book.pdf"), "book.pdf")])
    assert [o.status for o in stats.outcomes] == ["indexed"], stats.outcomes
    return ops.answers.chain(AskOptions("书"))


def test_chapter_question_names_its_sections_and_cites_its_pages(chain):
    events = list(chain.stream("第2章讲了什么？"))
    answer = next(e for e in events if isinstance(e, Done)).answer
    assert answer.signals["route"] == "structure"
    assert "".join(e.text for e in events if isinstance(e, Token)) == answer.answer
    assert sum(isinstance(e, Sources) for e in events) == 1
    assert "2.1 经验误差与过拟合" in answer.answer and "2.2 评估方法" in answer.answer
    pages = [c.page for c in answer.citations]
    assert pages and all(3 <= p <= 4 for p in pages), answer.citations
    assert len(answer.answer) > len("第2章 模型评估") * 4  # an overview follows the titles


def test_outline_question_lists_the_chapters(chain):
    answer = chain.invoke("这本书有哪些章？")
    assert answer.signals["route"] == "structure"
    assert "第1章 绪论" in answer.answer and "第2章 模型评估" in answer.answer
    assert {c.page for c in answer.citations} == {1, 3}


def test_a_fact_question_goes_the_usual_way(chain):
    answer = chain.invoke("基本术语一节给出了什么例子？")
    assert answer.signals.get("route") != "structure"
