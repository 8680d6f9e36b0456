"""bench/results.py keeps a run's headline figures; bench/summary.py prints one Markdown table of
them, one row per benchmark, and lists a benchmark without results as "not run"."""

from bench.results import load_all, record
from bench.summary import table


def test_the_summary_lists_every_recorded_benchmark_and_those_not_run(tmp_path):
    record(
        "retrieval.search",
        [{"label": "zh", "hit@1": 0.6134, "MRR": 0.71}, {"label": "en", "hit@1": 0.5}],
        "python -m bench.retrieval.search --questions 10",
        results=tmp_path,
    )
    record(
        "load.soak",
        [{"rss_mb_per_h": 1.25, "files_lost": 0}],
        "python -m bench.load.soak",
        tmp_path,
    )
    assert sorted(load_all(tmp_path)) == ["load.soak", "retrieval.search"]
    assert load_all(tmp_path)["load.soak"]["rows"] == [{"rss_mb_per_h": 1.25, "files_lost": 0}]

    lines = table(
        tmp_path, expected=("retrieval.search", "load.job_queue", "load.soak")
    ).splitlines()
    assert lines[0] == "| benchmark | headline | date | command |"
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in lines[2:]}
    assert list(rows) == ["retrieval.search", "load.job_queue", "load.soak"]
    assert "zh: hit@1=0.613 MRR=0.71; en: hit@1=0.5" in rows["retrieval.search"]
    assert "`python -m bench.retrieval.search --questions 10`" in rows["retrieval.search"]
    assert "rss_mb_per_h=1.25 files_lost=0" in rows["load.soak"]
    assert "not run" in rows["load.job_queue"]
    assert "not run" not in rows["load.soak"]


def test_a_benchmark_outside_the_list_is_shown_after_it(tmp_path):
    record("answers.book", [{"cited_first": 0.4}], "python -m bench.answers.book", tmp_path)
    lines = table(tmp_path, expected=("answers.qa",)).splitlines()
    assert [line.split(" | ")[0] for line in lines[2:]] == ["| answers.qa", "| answers.book"]
    assert "not run" in lines[2] and "cited_first=0.4" in lines[3]
