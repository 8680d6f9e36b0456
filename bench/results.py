"""Headline figures of a benchmark run, kept for ``python -m bench.summary``: one JSON file per
benchmark under bench/.results/ (the rows the script printed as its headline, the date, the
command), overwritten by the next run."""

import json
import shlex
import sys
from datetime import datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / ".results"


def command() -> str:
    """How this process was started, as ``python -m bench.X args`` (the module run as __main__)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    start = ["python", "-m", spec.name] if spec is not None else ["python", sys.argv[0]]
    return shlex.join(start + sys.argv[1:])


def record(name: str, rows: list[dict], command: str, results: Path = RESULTS) -> Path:
    """Write ``rows`` (the headline figures, e.g. ``{"set": "zh", "hit@1": 0.61}``) as
    <results>/<name>.json, with today's date and the command that computed them."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{name}.json"
    entry = {
        "name": name,
        "date": datetime.now().isoformat(timespec="minutes"),
        "command": command,
        "rows": rows,
    }
    path.write_text(json.dumps(entry, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_all(results: Path = RESULTS) -> dict[str, dict]:
    """name -> what ``record`` wrote, for every benchmark that has results."""
    out = {}
    for path in sorted(results.glob("*.json")):
        entry = json.loads(path.read_text(encoding="utf-8"))
        out[entry.get("name", path.stem)] = entry
    return out
