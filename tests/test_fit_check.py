"""bench/fit_check.py: the highest bar that refuses at most the allowed answerable questions, and
off when it refuses no question that should be refused."""

from bench.fit_check import added, choose


def _row(kind: str, p: float | None, refused: bool = False) -> dict:
    signals = {"answer_check": p}
    return {"kind": kind, "refused": refused, "contains": True, "signals": signals}


def test_the_bar_is_the_highest_refusing_at_most_the_allowed_answerable():
    groups = {
        "answerable": [_row("answerable", p) for p in (0.99, 0.97, 0.95, 0.5)]
        + [_row("answerable", None, refused=True)] * 30,
        "near_miss": [_row("near_miss", p) for p in (0.9, 0.6)],
        "out_of_kb": [],
    }
    # 34 answerable: 0.03 of them is one question, so the 0.5 one may go, not the 0.95 one
    assert choose(groups, 0.03) == 0.95
    assert added(groups["answerable"], 0.95) == 1 and added(groups["near_miss"], 0.95) == 2
    # none may go: 0.5 is the highest (nothing is below it), and it refuses no near miss: off
    assert choose(groups, 0.0) is None


def test_off_when_the_bar_refuses_nothing_it_should():
    groups = {
        "answerable": [_row("answerable", 0.3)],
        "near_miss": [_row("near_miss", 0.2, refused=True), _row("near_miss", None)],
        "out_of_kb": [_row("out_of_kb", 0.1, refused=True)],
    }
    assert choose(groups, 0.0) is None
