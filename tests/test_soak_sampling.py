"""The soak's leak meter: samples read from /proc, and a slope per hour that a restart does not
fake."""

import os

from bench.soak import kill_times
from bench.soak_sampling import Sample, read_sample, slope_per_hour, slopes_table


def life(pid: int, start_s: float, rss: list[float], every_s: float = 60) -> list[Sample]:
    return [Sample(start_s + i * every_s, pid, r, 0.0, 10, 5, 0) for i, r in enumerate(rss)]


def test_the_slope_is_fitted_within_each_life_of_the_process():
    leaking = life(1, 0, [500 + i for i in range(30)]) + life(2, 1800, [400 + i for i in range(30)])
    assert abs(slope_per_hour(leaking, "rss_mb", warmup_s=0) - 60.0) < 1e-6  # 1 MB a minute
    steady = life(1, 0, [500.0] * 30) + life(2, 1800, [300.0] * 30)  # a restart is not a trend
    assert slope_per_hour(steady, "rss_mb", warmup_s=0) == 0.0
    warming = life(1, 0, [100, 400] + [500.0] * 28)
    assert slope_per_hour(warming, "rss_mb", warmup_s=120) == 0.0  # the first minutes left out
    assert slope_per_hour(life(1, 0, [1.0]), "rss_mb", warmup_s=0) is None
    assert "| rss_mb | 500 | 529 | 500 | 529 | +60.00 |" in slopes_table(leaking[:30], 0)


def test_a_sample_of_a_live_process_and_of_a_gone_one(tmp_path):
    (tmp_path / "a.tmp").write_text("x")
    sample = read_sample(os.getpid(), tmp_path, 1.0)
    assert sample is not None and sample.rss_mb > 10 and sample.open_files > 2
    assert sample.threads >= 1 and sample.tmp_files == 1
    assert read_sample(2**22 + 1, tmp_path, 1.0) is None  # no such process


def test_one_kill_in_the_middle_of_each_hour():
    assert kill_times(7200, 0.5) == [1800, 5400]
    assert kill_times(180, 0.5) == [90]
