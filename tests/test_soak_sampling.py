"""The soak's leak meter (bench/load/soak_sampling.py): a steady growth shows as its slope per hour,
and a restart of the server, whose memory then starts afresh, does not read as a fall."""

import os
import threading

from bench.load.soak_sampling import Sample, Sampler, slope_per_hour


def life(n: int, start_min: float, rss: list[float]) -> list[Sample]:
    return [Sample(start_min + i, n, r, 10, 5, 0) for i, r in enumerate(rss)]


def test_the_slope_is_fitted_within_each_life_of_the_server():
    leaking = life(1, 0, [500 + i for i in range(30)]) + life(2, 30, [400 + i for i in range(30)])
    assert abs(slope_per_hour(leaking, "rss_mb") - 60.0) < 1e-6  # 1 MB a minute
    steady = life(1, 0, [500.0] * 30) + life(2, 30, [300.0] * 30)
    assert slope_per_hour(steady, "rss_mb") == 0.0  # the restart's drop is no trend
    assert slope_per_hour(life(1, 0, [1.0, 2.0]), "rss_mb") is None  # too few samples


def test_a_sample_of_a_live_process(tmp_path):
    (tmp_path / "a.tmp").write_text("x")
    stop = threading.Event()
    sampler = Sampler(lambda: os.getpid(), tmp_path, interval_s=0.01)
    stop.set()  # one sample, then stop
    sampler.run(stop)
    (sample,) = sampler.samples
    assert sample.rss_mb > 10 and sample.open_files > 2 and sample.threads >= 1
    assert sample.temp_files == 1 and sample.life == 1
    # RSS splits into anonymous memory and mapped files' pages (shared memory is the rest)
    assert sample.anon_mb > 5 and sample.file_mb > 1
    assert sample.anon_mb + sample.file_mb <= sample.rss_mb + 1
