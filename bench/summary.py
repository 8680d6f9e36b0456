"""One Markdown table of the headline figures every benchmark recorded (bench/results.py), one row
per benchmark; those `make bench` runs and that have no results yet are listed as "not run".

    python -m bench.summary [--results bench/.results]
"""

import argparse
from pathlib import Path

from bench.results import RESULTS, load_all

# what `make bench` records, in its order (other recorded benchmarks follow)
BENCHMARKS = (
    "ingestion.corpus",
    "retrieval.search",
    "retrieval.long_document",
    "answers.first_token",
    "answers.follow_up",
    "answers.qa",
    "load.soak",
    "load.soak-scale",
    "load.job_queue",
)


def figure(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3g}"


def headline(rows: list[dict]) -> str:
    """``label: key=value key=value; ...``, one group per row."""
    parts = []
    for row in rows:
        pairs = " ".join(f"{k}={figure(v)}" for k, v in row.items() if k != "label")
        parts.append(f"{row['label']}: {pairs}" if "label" in row else pairs)
    return "; ".join(parts) or "(no figures)"


def table(results: Path = RESULTS, expected: tuple[str, ...] = BENCHMARKS) -> str:
    found = load_all(results)
    lines = ["| benchmark | headline | date | command |", "|---|---|---|---|"]
    for name in [*expected, *sorted(set(found) - set(expected))]:
        entry = found.get(name)
        if entry is None:
            cells = [name, "not run", "–", "–"]
        else:
            date = entry["date"].replace("T", " ")
            cells = [name, headline(entry["rows"]), date, f"`{entry['command']}`"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--results", default=str(RESULTS), help="where bench/results.py writes")
    args = ap.parse_args()
    print("\n## Benchmarks: headline figures\n")
    print(table(Path(args.results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
