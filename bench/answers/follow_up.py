"""Follow-up questions with a local model: the rewrite of a follow-up (history + question -> one
question) in the answer context or in the second context beside it.

The rewrite has its own system prompt. Run in the context that holds the answer prompt, it evicts
that prompt's system part, which the next answer then reads again; run in the second context
(``side_context``), the answer prompt's system part stays read. Both ways ask the same
conversations over the bundled user guide (knowledge_base/), in turns, with the default local
model at temperature 0; printed per turn kind: first-token and total time (p50), and whether the
two ways wrote the same answers. Needs no ../shared.

    python -m bench.answers.follow_up [--rounds 1]
"""

import argparse
import statistics
import tempfile
from pathlib import Path

from app.settings import prepare_process_env
from bench.results import command, record

REPO = Path(__file__).resolve().parents[2]

CONVERSATIONS = [
    ["如何上传文档？", "那怎么删除呢？", "可以一次选择多个文件吗？"],
    ["How do I upload documents?", "And how do I delete one again?", "Can I pick several files?"],
]
WAYS = ("answer context", "side context")


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=1, help="each way asks every conversation once")
    ap.add_argument("--models-dir", default=str(REPO / "data/models"))
    args = ap.parse_args()
    chain = guide_chain(Path(tempfile.mkdtemp(prefix="follow-up-")), Path(args.models_dir))
    rows: dict[tuple[str, str], list[dict]] = {}
    answers: dict[tuple[str, int, int], str] = {}
    for n in range(args.rounds):
        order = WAYS if n % 2 == 0 else WAYS[::-1]  # in turns, so drift hits both ways
        for way in order:
            chain.chat_model.has_side_context = way == "side context"
            for c, turns in enumerate(CONVERSATIONS):
                history: list[dict] = []
                for t, question in enumerate(turns):
                    answer = chain.invoke(question, history)
                    kind = "first question" if t == 0 else "follow-up"
                    rows.setdefault((way, kind), []).append(answer.timings)
                    answers[(way, c, t)] = answer.answer
                    print(f"{way} | {question} | {answer.timings} | {answer.answer[:60]!r}")
                    history += [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": answer.answer},
                    ]
    record("answers.follow_up", print_table(rows, answers), command())
    return 0


def guide_chain(data_dir: Path, models_dir: Path):
    from app.operations import AskOptions, Operations
    from app.settings import Settings
    from ingest import expand_paths

    ops = Operations.from_settings(
        Settings(data_dir=data_dir, models_dir=models_dir, llm_temperature=0.0, _env_file=None)
    )
    files = [(p, p.name) for p in expand_paths([REPO / "knowledge_base"])]
    ops.knowledge.ingest("guide", files)
    return ops.answers.chain(AskOptions("guide"))


def print_table(rows: dict, answers: dict) -> list[dict]:
    """Prints the table; returns the headline: a follow-up's first token p50 (s) per way, and how
    many answers both ways wrote alike."""
    same = sum(
        answers[(WAYS[0], c, t)] == answers[(WAYS[1], c, t)]
        for c, turns in enumerate(CONVERSATIONS)
        for t in range(len(turns))
    )
    total = sum(len(turns) for turns in CONVERSATIONS)
    print("\n| rewrite runs in | turn | n | first token p50 | total p50 |")
    print("|---|---|---|---|---|")
    headline = []
    for (way, kind), timings in rows.items():
        first = statistics.median(t["first_token_ms"] for t in timings) / 1000
        whole = statistics.median(t["total_ms"] for t in timings) / 1000
        print(f"| {way} | {kind} | {len(timings)} | {first:.1f} s | {whole:.1f} s |")
        if kind == "follow-up":
            headline.append({"label": f"{way}, follow-up", "first_token_p50_s": round(first, 1)})
    print(f"\nsame answer both ways (last round): {same} of {total}")
    return headline + [{"same_answers": f"{same}/{total}"}]


if __name__ == "__main__":
    raise SystemExit(main())
