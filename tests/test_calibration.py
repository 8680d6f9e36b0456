"""The refusal calibration the eval notebook plots: what refusing at each threshold of the model's
refusal probability would do to answerable and unanswerable questions."""

from types import SimpleNamespace

from eval.plots import calibration_curve, plot_calibration

PNG_MAGIC = b"\x89PNG"


def rows():
    return [
        # answerable, answered right with a confident model
        {"answerable": True, "confidence": 0.99, "refused": False, "contains": 1.0},
        # answerable, answered right, the model less sure
        {"answerable": True, "confidence": 0.6, "refused": False, "contains": 1.0},
        # answerable, refused already (by the gate): stays refused at every threshold
        {"answerable": True, "confidence": 0.9, "refused": True, "contains": 0.0},
        # unanswerable: the model is unsure, then refused outright
        {"answerable": False, "confidence": 0.3, "refused": False, "contains": 0.0},
        {"answerable": False, "confidence": 0.1, "refused": True, "contains": 0.0},
        # a remote model's answer carries no confidence: left out
        {"answerable": True, "confidence": None, "refused": False, "contains": 1.0},
    ]


def test_each_threshold_refuses_what_reaches_it_and_keeps_earlier_refusals():
    curve = {round(c["threshold"], 2): c for c in calibration_curve(rows(), steps=10)}
    # refuse only at p >= 1.0: nothing beyond the refusals already made
    assert curve[1.0]["answerable_refused"] == 1 / 3
    assert curve[1.0]["unanswerable_refused"] == 1 / 2
    assert curve[1.0]["answerable_right"] == 2 / 3
    # at p >= 0.5 the unsure unanswerable one (p 0.7) is refused, no answerable one is
    assert curve[0.5]["unanswerable_refused"] == 1.0 and curve[0.5]["answerable_refused"] == 1 / 3
    # at p >= 0.4 the less sure answerable one (p 0.4) goes too: a right answer lost
    assert curve[0.4]["answerable_refused"] == 2 / 3 and curve[0.4]["answerable_right"] == 1 / 3
    assert curve[0.0]["answerable_refused"] == 1.0


def test_the_plot_is_drawn_only_when_answers_carry_a_confidence(tmp_path):
    report = SimpleNamespace(per_question=rows())
    data = plot_calibration(report, tmp_path / "calibration.png").read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    remote = SimpleNamespace(per_question=[{"answerable": True, "confidence": None}])
    assert plot_calibration(remote, tmp_path / "none.png") is None
