"""First token against the sources budget, for a local model: the measurement behind the default
`KB_CONTEXT_TOKENS` of the local profile.

For each budget, CMRC 2018 (zh) and SQuAD (en) questions are asked with their own paragraphs (and
the next ones, to fill the budget) as the sources, cut to the budget with the chain's own token
estimate, through the real answer prompt and the shared engine (the system prompt stays in
llama.cpp's cache, as in the server). Printed: prompt tokens and first-token time, p50 and p95,
and the prompt-reading speed: the extra prompt tokens of the largest budget over the smallest,
divided by the extra first-token time (the cached system part and the fixed costs cancel out).

    python -m bench.answers.first_token [--model qwen2.5-coder-1.5b]
    [--budgets 300,500,700,900,1200] [--questions 6]
"""

import argparse
import statistics
import time
from pathlib import Path

from app.settings import prepare_process_env
from bench.results import command, record

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    prepare_process_env()
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--qa-dir", default=str(REPO.parent / "shared/qa"))
    ap.add_argument("--model", default="qwen2.5-coder-1.5b")
    ap.add_argument("--models-dir", default=str(REPO / "data/models"))
    ap.add_argument("--budgets", default="300,500,700,900,1200")
    ap.add_argument("--questions", type=int, default=6, help="per language and budget")
    args = ap.parse_args()
    if not Path(args.qa_dir).exists():
        print(f"QA sets not found at {args.qa_dir} (the benchmark needs ../shared)")
        return 1
    from llm_backends import LLMConfig, build_chat_model, build_local_engine

    config = LLMConfig(model=args.model, models_dir=args.models_dir, temperature=0.0, max_tokens=1)
    engine = build_local_engine(config)
    model = build_chat_model(config, engine)
    t0 = time.perf_counter()
    engine.load()
    print(f"model {args.model}: loaded in {time.perf_counter() - t0:.1f} s")
    print(
        "\n| lang | sources budget (tokens) | prompt tokens p50 | first token p50 | first token"
        " p95 |"
    )
    print("|---|---|---|---|---|")
    headline = []
    budgets = [int(b) for b in args.budgets.split(",")]
    for lang, qa_file in (("zh", "cmrc2018_dev_part1.jsonl"), ("en", "squad1.1_dev_part1.jsonl")):
        cases = load_cases(Path(args.qa_dir) / qa_file, args.questions)
        # warm the shared system prefix, as a running server has
        model.invoke(messages_for(cases[0], 300))
        p50s, tokens_p50 = {}, {}
        for budget in budgets:
            firsts, prompts_n = [], []
            for case in cases:
                start = time.perf_counter()
                chunks = iter(model.stream(messages_for(case, budget)))
                next(chunks)
                firsts.append(time.perf_counter() - start)
                usage = [c.usage_metadata for c in chunks if c.usage_metadata]
                prompts_n.append(usage[0]["input_tokens"] if usage else 0)
            firsts.sort()
            p95 = firsts[min(len(firsts) - 1, round(0.95 * (len(firsts) - 1)))]
            print(
                f"| {lang} | {budget} | {statistics.median(prompts_n):.0f} |"
                f" {statistics.median(firsts):.1f} s | {p95:.1f} s |",
                flush=True,
            )
            p50s[budget] = statistics.median(firsts)
            tokens_p50[budget] = statistics.median(prompts_n)
        # the headline: first token p50 (s) at the smallest and the largest budget, reading speed
        ends = sorted({min(budgets), max(budgets)})
        speed = reading_speed(tokens_p50, p50s, ends)
        if speed is not None:
            print(f"{lang}: prompt reading {speed:.1f} tokens/s ({ends[0]} -> {ends[-1]} budget)")
        headline.append(
            {"label": lang}
            | {f"p50_s@{b}": round(p50s[b], 1) for b in ends}
            | {"prompt_tokens_per_s": None if speed is None else round(speed, 1)}
        )
    record("answers.first_token", headline, command())
    return 0


def reading_speed(tokens: dict, seconds: dict, ends: list[int]) -> float | None:
    """Prompt tokens read per second between the smallest and the largest budget."""
    low, high = ends[0], ends[-1]
    extra_s = seconds[high] - seconds[low]
    if high == low or extra_s <= 0:
        return None
    return (tokens[high] - tokens[low]) / extra_s


def load_cases(path: Path, n: int) -> list[tuple[str, list[str]]]:
    """(question, the paragraphs that follow it in the file, its own first), one question per
    paragraph."""
    from eval import load_qa_set

    items, contexts = load_qa_set(path), []
    for item in items:
        if item.context and item.context not in contexts:
            contexts.append(item.context)
    cases, seen = [], set()
    for item in items[::7]:  # spread over the file
        if item.context in seen or not item.answers:
            continue
        seen.add(item.context)
        at = contexts.index(item.context)
        cases.append((item.question, contexts[at : at + 6]))
        if len(cases) >= n:
            break
    return cases


def messages_for(case: tuple[str, list[str]], budget: int):
    import prompts

    question, paragraphs = case
    blocks, used = [], 0
    for n, text in enumerate(paragraphs, 1):
        while text and used + prompts.estimate_tokens(text) > budget:
            text = text[: int(len(text) * 0.9)]
        if not text:
            break
        used += prompts.estimate_tokens(text)
        blocks.append({"n": n, "source": f"doc{n}.md", "text": text})
    return prompts.answer_messages(question, blocks)


if __name__ == "__main__":
    raise SystemExit(main())
