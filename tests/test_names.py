"""The name check that stops the model answering from passages about a neighbouring subject."""

import pytest

from retrieval import NameCheck


@pytest.fixture(scope="module")
def check():
    return NameCheck()


def test_chinese_names_are_the_rare_words(check):
    assert check.names("嘉善南站由哪个公司管辖？") == ["嘉善", "南站"]
    assert check.names("余蔚是哪国国王？") == ["余蔚"]  # 哪国 is a question word
    assert check.names("如何上传文档？") == ["上传", "文档"]
    assert check.names("那怎么删除它们？") == []


def test_a_passage_about_something_else_misses_the_name(check):
    passage = ["广茂铁路是广东省的一条铁路，设有茂名南站。"]
    assert check.missing("嘉善南站由哪个公司管辖？", passage) == ["嘉善"]
    assert check.missing("茂名南站由哪个公司管辖？", passage) == []
    # a longer word counts as mentioned through one of its two-character pieces
    assert check.missing("战国无双是哪两家公司合作开发的？", ["战国无双由光荣和ω-force合作制作。"]) == []


def test_english_names_are_capitalised_words_after_the_first(check):
    assert check.names("Who was the Super Bowl 50 MVP?") == ["Super", "Bowl", "MVP"]
    assert check.missing("Who coached the Denver Broncos?", ["The Carolina Panthers were coached by Ron Rivera."]) \
        == ["Denver", "Broncos"]
    assert check.missing("Which file formats are supported?", ["PDF, Markdown and text."]) == []
    assert check.missing("How many Pro Bowlers were on the team?", ["four Pro Bowl selections"]) == []


def test_cross_language_questions_are_not_checked(check):
    assert check.missing("黑豹队的防守丢了多少分？", ["The Panthers defense gave up just 308 points."]) == []


def test_a_name_the_knowledge_base_holds_elsewhere_is_not_missing(check):
    passage = ["广茂铁路是广东省的一条铁路，设有茂名南站。"]
    elsewhere = "沪杭铁路设有嘉善南站。"
    assert check.missing("嘉善南站由哪个公司管辖？", passage, known=lambda text: text in elsewhere) == []
    assert check.missing("嘉善南站由哪个公司管辖？", passage, known=lambda text: False) == ["嘉善"]
    # a textbook's term that sits on another page; jieba's fragment 集时 (数据集时: "when ... the data set")
    # is no name
    gini = "用基尼指数划分西瓜数据集时，为什么选择纹理作为根节点？"
    assert check.names(gini) == ["基尼", "纹理"]
    assert check.missing(gini, ["基尼指数的计算。"], known=lambda text: text == "纹理") == []
    assert check.missing(gini, ["基尼指数的计算。"], known=lambda text: False) == ["纹理"]
    # an English name through its stem, as a document would write it
    seen = []
    assert check.missing("How many Pro Bowlers were on the team?", ["the team"],
                         known=lambda text: seen.append(text) or text in ("Pro", "Bowl")) == []
    assert "Bowl" in seen  # "Bowlers" as its stem


def test_the_answer_chain_checks_names_against_the_whole_knowledge_base(store, parser, files, tmp_path, embeddings):
    """Real Chroma: a name in no retrieved passage but in another document is known; one nowhere is not."""
    from app.operations import Operations
    from app.services import Services
    from app.settings import Settings
    from ingest import ingest_files

    kb = store.create("names")
    paths = [files.text("railway.md", "# 广茂铁路\n\n广茂铁路是广东省的一条铁路，设有茂名南站。"),
             files.text("shanghai.md", "# 沪杭铁路\n\n沪杭铁路连接上海和杭州，沿线有嘉善南站。")]
    ingest_files(kb, [(p, p.name) for p in paths], parser)
    assert kb.mentions("嘉善") and kb.mentions("茂名南站") and not kb.mentions("余杭南站")

    ops = Operations.over(Services(Settings(data_dir=str(tmp_path / "data")), embeddings=embeddings, store=store))
    missing = ops.answers._missing_names(kb)
    railway_only = ["广茂铁路是广东省的一条铁路，设有茂名南站。"]
    assert missing("嘉善南站由哪个公司管辖？", railway_only) == []        # held by the other document
    assert missing("余杭南站由哪个公司管辖？", railway_only) == ["余杭"]  # held nowhere: refuse
