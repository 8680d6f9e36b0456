"""bench/fit_ban.py reads a threshold's outcome off two runs (ban off, ban on) without a third."""

from bench.fit_ban import gain, outcome


def _row(kind: str, refused: bool, contains: bool, probability: float | None) -> dict:
    signals = {} if probability is None else {"refusal_probability": probability}
    return {"kind": kind, "refused": refused, "contains": contains, "signals": signals}


def test_a_threshold_refuses_at_or_above_and_takes_the_banned_answer_below():
    plain = _row("answerable", True, False, 0.3)
    banned = _row("answerable", False, True, 0.3)
    assert outcome(plain, banned, None) is plain  # off: the shipped behaviour
    assert outcome(plain, banned, 0.3)["refused"]  # p >= t: the gate refuses
    assert outcome(plain, banned, 0.5) is banned  # p < t: the answer written under the ban


def test_questions_refused_before_the_model_are_the_same_in_both_runs():
    plain = _row("out_of_kb", True, False, None)
    assert outcome(plain, _row("out_of_kb", False, False, None), 0.9) is plain


def test_gain_counts_what_a_threshold_makes_right_minus_what_it_makes_wrong():
    answerable = (_row("answerable", True, False, 0.4), _row("answerable", False, True, 0.4))
    near_miss = (_row("near_miss", True, True, 0.6), _row("near_miss", False, False, 0.6))
    pairs = [answerable, near_miss]
    assert gain(pairs, 0.5) == 1  # the answerable one answered, the near miss still refused
    assert gain(pairs, 0.7) == 0  # both banned: one made right, one made wrong
    assert gain(pairs, 0.3) == 0  # both refused by the gate: as before
