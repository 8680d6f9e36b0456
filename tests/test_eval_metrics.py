"""Metric functions against hand-checked values."""

import pytest

from eval.metrics import (
    answer_tokens,
    contains_answer,
    exact_match,
    f1,
    first_hit_rank,
    first_page_rank,
    hit_at_k,
    is_refusal,
    latency_summary,
    mean,
    mrr,
    normalize_answer,
    percentile,
    refusal_scores,
    same_source,
    text_contains_answer,
)

# ---------------------------------------------------------------- normalisation


def test_normalize_english_drops_case_punctuation_articles_and_extra_space():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("An apple, a day.") == "apple day"
    assert normalize_answer("Theatre") == "theatre"  # article only as a whole word


def test_normalize_chinese_drops_cjk_punctuation_and_citation_markers():
    assert normalize_answer("《战国无双3》，光荣。") == "战国无双3光荣"
    assert normalize_answer("「战史演武」&「争霸演武」[2]") == "战史演武争霸演武"
    assert normalize_answer("ＡＢＣ１２３") == "abc123"  # full-width forms folded


def test_chinese_tokens_are_characters_and_ascii_runs_stay_together():
    assert answer_tokens("光荣和ω-force") == ["光", "荣", "和", "ωforce"]
    assert answer_tokens("iPhone 15发布") == ["iphone", "15", "发", "布"]
    assert answer_tokens("Denver Broncos") == ["denver", "broncos"]


# ---------------------------------------------------------------- EM / F1


def test_exact_match_ignores_spacing_and_punctuation_in_chinese():
    assert exact_match("光荣 和 ω-force。", ["光荣和ω-force"]) == 1.0
    assert exact_match("光荣", ["光荣和ω-force"]) == 0.0


def test_exact_match_english_and_citation_markers():
    assert exact_match("the Denver Broncos [1].", ["Denver Broncos"]) == 1.0
    assert exact_match("Denver", ["Denver Broncos"]) == 0.0


def test_f1_english_hand_checked():
    # pred {denver, broncos, won}, gold {denver, broncos}: P=2/3, R=1 -> F1=0.8
    assert f1("the Denver Broncos won", ["Denver Broncos"]) == pytest.approx(0.8)


def test_f1_chinese_is_character_level():
    # pred 光 荣 公 司, gold 光 荣 和 ωforce: 2 common, P=R=0.5
    assert f1("光荣公司", ["光荣和ω-force"]) == pytest.approx(0.5)
    # mixed pair: the English gold is tokenised like the Chinese prediction
    assert f1("ω-force开发", ["ω-force"]) == pytest.approx(2 * (1 / 3) * 1 / (1 / 3 + 1))


def test_f1_takes_best_gold_and_duplicates_do_not_change_it():
    assert f1("Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert f1("Denver", ["Denver Broncos", "Denver Broncos"]) == f1("Denver", ["Denver Broncos"])
    assert f1("Denver", ["Denver Broncos"]) == pytest.approx(2 * 1 * 0.5 / 1.5)


def test_f1_counts_repeated_tokens_once_per_gold_occurrence():
    # pred [cat, cat], gold [cat]: 1 common, P=0.5, R=1 -> 2/3
    assert f1("the cat, the cat", ["cat"]) == pytest.approx(2 / 3)


def test_empty_prediction_scores_zero_against_an_answer():
    assert exact_match("", ["x"]) == 0.0
    assert f1("", ["x"]) == 0.0
    assert contains_answer("", ["x"]) == 0.0


def test_unanswerable_scores_one_only_for_a_refusal():
    assert exact_match("知识库中没有找到相关信息。", []) == 1.0
    assert f1("The knowledge base does not contain this information.", []) == 1.0
    assert f1("1872年", []) == 0.0
    assert exact_match("", []) == 0.0


def test_refusal_phrases_are_a_parameter():
    assert is_refusal("The documents don\u2019t contain it.")  # curly apostrophe
    assert not is_refusal("Sorry, no idea.")
    assert is_refusal("Sorry, no idea.", phrases=("no idea",))
    assert f1("Sorry, no idea.", [], refusal_phrases=("no idea",)) == 1.0


def test_contains_answer_for_long_generated_answers():
    assert contains_answer("根据资料，青岚湖镇始建于1872年。[1]", ["1872年"]) == 1.0
    assert contains_answer("It was built in 1894 by the navy.", ["1894"]) == 1.0
    assert contains_answer("It was built in 18945.", ["1894"]) == 0.0


# ---------------------------------------------------------------- retrieval


def test_text_contains_answer_matches_whole_words_outside_cjk():
    assert text_contains_answer("Super Bowl 50: The Denver Broncos defeated...", "denver broncos")
    assert not text_contains_answer("party time", "art")
    assert text_contains_answer("湖中有一座名为白鹭洲的小岛。", "白鹭洲")
    assert not text_contains_answer("anything", "")


def test_same_source_compares_file_names():
    assert same_source("kb/docs/Super_Bowl_50.md", "super_bowl_50.md")
    assert same_source("C:\\kb\\a.md", "a.md")
    assert not same_source("a.md", "b.md")
    assert not same_source(None, "a.md")


def test_first_hit_rank_by_text_source_and_page():
    hits = [
        {"text": "unrelated", "source": "a.md", "page": 1},
        {"text": "nothing here", "source": "kb/gold.md", "page": 2},
        {"text": "The Denver Broncos won.", "source": "c.md", "page": 3},
    ]
    assert first_hit_rank(hits, ["Denver Broncos"]) == 3
    assert first_hit_rank(hits, ["Denver Broncos"], source="gold.md") == 2
    assert first_hit_rank(hits, ["absent"], page=1) == 1  # single-document set: page alone
    assert first_hit_rank(hits, ["absent"], source="gold.md", page=1) is None  # both must match
    assert first_hit_rank(hits, ["absent"]) is None
    assert first_hit_rank([], ["x"]) is None
    assert first_page_rank(hits, 3) == 3
    assert first_page_rank([{"page": "2"}], 2) == 1


def test_hit_at_k_and_mrr_hand_checked():
    ranks = [1, 3, None, 2]
    assert hit_at_k(ranks, 1) == 0.25
    assert hit_at_k(ranks, 3) == 0.75
    assert hit_at_k(ranks, 10) == 0.75
    assert mrr(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert hit_at_k([], 1) is None and mrr([]) is None


# ---------------------------------------------------------------- refusals and latency


def test_refusal_precision_recall():
    scores = refusal_scores([True, True, False, False, True], [True, False, True, False, True])
    assert scores["refusal_precision"] == pytest.approx(2 / 3)
    assert scores["refusal_recall"] == pytest.approx(2 / 3)
    assert scores["n_refused"] == 3 and scores["n_unanswerable"] == 3
    none = refusal_scores([False], [False])
    assert none["refusal_precision"] is None and none["refusal_recall"] is None
    with pytest.raises(ValueError):
        refusal_scores([True], [])


def test_percentile_interpolates_linearly():
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)
    assert percentile([4, 1, 3, 2], 50) == pytest.approx(2.5)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None


def test_latency_summary_per_stage_skips_missing_values():
    timings = [
        {"total_ms": 100, "retrieve_ms": 10},
        {"total_ms": 300},
        {"total_ms": 200, "retrieve_ms": None},
    ]
    summary = latency_summary(timings)
    assert summary["total_ms"] == {"n": 3, "p50": 200.0, "p95": pytest.approx(290.0)}
    assert summary["retrieve_ms"]["n"] == 1 and summary["retrieve_ms"]["p95"] == 10.0
    assert summary["first_token_ms"] == {"n": 0, "p50": None, "p95": None}


def test_mean_ignores_none():
    assert mean([1, None, 2]) == 1.5
    assert mean([None]) is None
