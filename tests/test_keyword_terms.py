"""What the keyword side reads of a text: Snowball stems for English, subject words of a long
question."""

from retrieval.keyword import Tokenizer


def test_snowball_stems_meet_across_word_forms():
    tokens = Tokenizer().tokens
    assert tokens("running") == tokens("runs") == ["run"]
    assert tokens("making") == tokens("makes") == ["make"]
    assert tokens("news") == ["news"]  # not "new": the light stemmer cut it
    assert Tokenizer(english_stems="light").tokens("news running") == ["new", "runn"]


def test_subject_terms_of_an_exam_style_question():
    question = (
        "根据所提供的上下文信息，假设你是负责教授机器学习课程的老师，请你设置一个问题，"
        "要求学生证明对数几率回归的负对数似然式(3.27)是关于β的凸函数"
    )
    terms = Tokenizer().subject_terms(question, max_general_freq=1000)
    assert "式(3.27)" in terms and {"似然", "凸函数"} <= set(terms)
    assert not {"根据", "提供", "老师", "学生", "设置", "问题", "要求"} & set(terms)


def test_signature_names_what_an_index_holds():
    assert Tokenizer().signature != Tokenizer(english_stems="light").signature
    assert Tokenizer(numbered_references=False, english_stems="light").signature == "1"
