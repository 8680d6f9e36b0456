"""Concurrency: N people ask at the same moment; how long each waits for a sign of life, for the
first word of the answer, and for the whole answer.

Starts `kb serve --no-ui` on a fresh data dir (the first-run knowledge base from knowledge_base/ is
the corpus), warms the model with one question, then for each N fires N streamed `/ask` requests at
once and reads their SSE events. Printed per N: answered, refused with 429, time to the first event
(``queued`` or ``reading``), to the first token, and total, p50/p95, with the total p50 against
N = 1 (the baseline of the same run).

The model is the server's default (the local one) unless KB_LLM_PROVIDER and friends in the
environment point it elsewhere, e.g. a vLLM server (whose continuous batching should flatten the
table): the title says which model answered.

    python -m bench.load.concurrency [--clients 1,2,4,8] [--max-waiting 8]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

WARM_UP = "这个知识库里有什么？"
QUESTIONS = [
    "kb-assistant 是什么？",
    "How do I upload documents?",
    "支持哪些文件格式？",
    "如何删除文档？",
    "How do I change the language model?",
    "知识库的答案会引用哪些信息？",
    "What happens when the documents do not hold the answer?",
    "如何通过 API 提问？",
]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", default="1,2,4,8", help="simultaneous questions per round")
    ap.add_argument("--max-waiting", type=int, default=8, help="KB_MAX_WAITING for the server")
    ap.add_argument("--port", type=int, default=8766)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "KB_DATA_DIR": data, "KB_API_KEYS": ""}
        env["KB_MAX_WAITING"] = str(args.max_waiting)
        kb_exe = str(Path(sys.executable).parent / "kb")
        server = subprocess.Popen(
            [kb_exe, "serve", "--no-ui", "--port", str(args.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            model = _wait_ready(base)
            # loads the model and warms the shared prompt prefix, with a question not asked again
            asyncio.run(_round(base, [WARM_UP]))
            rows, asked = [], 0
            for n in _counts(args.clients):
                # each round's questions follow the last round's: no answer repeats the one before
                questions = [QUESTIONS[(asked + i) % len(QUESTIONS)] for i in range(n)]
                rows.append((n, asyncio.run(_round(base, questions))))
                asked += n
            _print(model, args.max_waiting, rows)
        finally:
            server.terminate()
            server.wait(30)
    return 0


def _counts(text: str) -> list[int]:
    return [int(c) for c in text.split(",") if c.strip()]


def _wait_ready(base: str, timeout_s: float = 600) -> str:
    """The model's name once the first-run knowledge base is built."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            kbs = httpx.get(base + "/kbs", timeout=2).json()
            if any(k["name"] == "guide" and k["documents"] >= 2 for k in kbs):
                llm = httpx.get(base + "/health", timeout=2).json()["llm"]
                return f"{llm['provider']}:{llm['model']}"
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become ready")


async def _round(base: str, questions: list[str]) -> list[dict]:
    """All of ``questions`` sent at once."""
    n = len(questions)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, timeout=900, limits=limits) as client:
        return await asyncio.gather(*(_ask(client, q) for q in questions))


async def _ask(client: httpx.AsyncClient, question: str) -> dict:
    """Seconds from sending to the first event, the first token and the end; the HTTP status."""
    t0 = time.perf_counter()
    seen: dict = {"status": None, "first_event": None, "first_token": None, "queued": False}
    body = {"kb": "guide", "question": question, "stream": True}
    async with client.stream("POST", "/ask", json=body) as response:
        seen["status"] = response.status_code
        async for line in response.aiter_lines():
            if not line.startswith("event:"):
                continue
            name = line[6:].strip()
            now = time.perf_counter() - t0
            seen["first_event"] = seen["first_event"] or now
            seen["queued"] = seen["queued"] or name == "queued"
            if name == "token":
                seen["first_token"] = seen["first_token"] or now
    seen["total"] = time.perf_counter() - t0
    return seen


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _print(model: str, max_waiting: int, rows: list[tuple[int, list[dict]]]) -> None:
    print(f"\n## {model}: N questions at once (KB_MAX_WAITING={max_waiting})\n")
    print(
        "| N | answered | 429 | told queued | first event p50 / p95 s | first token p50 / p95 s"
        " | total p50 / p95 s | total p50 / N=1 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    baseline = None
    for n, results in rows:
        ok = [r for r in results if r["status"] == 200]
        pairs = {
            key: [r[key] for r in ok if r[key] is not None]
            for key in ("first_event", "first_token", "total")
        }
        total_p50 = _pct(pairs["total"], 50)
        baseline = baseline or total_p50
        cells = " | ".join(
            f"{_pct(pairs[key], 50):.1f} / {_pct(pairs[key], 95):.1f}"
            for key in ("first_event", "first_token", "total")
        )
        print(
            f"| {n} | {len(ok)} | {sum(r['status'] == 429 for r in results)} |"
            f" {sum(r['queued'] for r in ok)} | {cells} | {total_p50 / baseline:.2f} |"
        )


if __name__ == "__main__":
    sys.exit(main())
