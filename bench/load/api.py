"""API benchmark: a real server on loopback, concurrent clients on /search, and /ask overhead.

Starts `kb serve --no-ui` in a subprocess on a fresh data dir (the first-run knowledge base from
knowledge_base/ is the corpus), then:
  * /search with 1 client (the baseline), 10 and 50 concurrent clients, each for --seconds:
    requests/s, p50/p95/p99 latency, errors, and the p50 ratio against the 1-client baseline;
  * /ask (local model) a few times: server-side overhead = total - generate, and HTTP overhead.

    python -m bench.load.api [--seconds 10] [--clients 10,50] [--asks 5]
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

REPO = Path(__file__).resolve().parents[2]
QUERIES = [
    "如何上传文档",
    "支持哪些文件格式",
    "How do I start it?",
    "怎么删除文档",
    "Which models are supported?",
    "如何更换大模型",
    "What happens to a bad file?",
    "引用包括页码吗",
]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", default="10,50")
    ap.add_argument("--asks", type=int, default=5)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "KB_DATA_DIR": data,
            "KB_API_KEYS": "",
            "ANONYMIZED_TELEMETRY": "False",
        }
        kb_exe = str(Path(sys.executable).parent / "kb")
        server = subprocess.Popen(
            [kb_exe, "serve", "--no-ui", "--port", str(args.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            _wait_ready(base)
            rows = [("1 (baseline)", asyncio.run(_load(base, 1, args.seconds)))]
            for n in [int(c) for c in args.clients.split(",") if c]:
                rows.append((str(n), asyncio.run(_load(base, n, args.seconds))))
            _print_search(rows)
            _print_ask(base, args.asks)
        finally:
            server.terminate()
            server.wait(20)
    return 0


def _wait_ready(base: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            kbs = httpx.get(base + "/kbs", timeout=2).json()
            if any(k["name"] == "guide" and k["documents"] >= 2 for k in kbs):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become ready")


async def _load(base: str, clients: int, seconds: float) -> dict:
    latencies, errors = [], 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker(offset: int):
            nonlocal errors
            i = offset
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    r = await client.post(
                        "/search", json={"kb": "guide", "query": QUERIES[i % len(QUERIES)], "k": 5}
                    )
                    if r.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - t0) * 1000)
                i += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        wall = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "errors": errors,
        "p50": _pct(latencies, 50),
        "p95": _pct(latencies, 95),
        "p99": _pct(latencies, 99),
    }


def _print_search(rows) -> None:
    base_p50 = rows[0][1]["p50"]
    print("\n## /search under concurrent clients\n")
    print("| clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors | p50 / baseline |")
    print("|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        print(
            f"| {label} | {r['requests']} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} |"
            f" {r['p99']:.1f} | {r['errors']} | {r['p50'] / base_p50:.2f} |"
        )


def _print_ask(base: str, n: int) -> None:
    questions = [
        "kb-assistant 是什么？",
        "How do I upload documents?",
        "支持哪些文件格式？",
        "如何删除文档？",
        "How do I change the language model?",
    ]
    rows = []
    with httpx.Client(base_url=base, timeout=300) as client:
        for i in range(n):
            q = questions[i % len(questions)]
            t0 = time.perf_counter()
            body = client.post("/ask", json={"kb": "guide", "question": q}).json()
            wall = (time.perf_counter() - t0) * 1000
            t = body["timings"]
            rows.append((q, wall, t["total_ms"], t["generate_ms"], t["retrieve_ms"]))
    print("\n## /ask overhead beyond the model (local model)\n")
    print(
        "| question | HTTP wall ms | server total ms | generate ms | retrieve ms | overhead (total"
        " - generate) ms |"
    )
    print("|---|---|---|---|---|---|")
    for q, wall, total, gen, ret in rows:
        print(f"| {q} | {wall:.0f} | {total:.0f} | {gen:.0f} | {ret:.0f} | {total - gen:.0f} |")
    over = [r[2] - r[3] for r in rows]
    print(
        f"\nmedian overhead: {statistics.median(over):.0f} ms "
        "(first call includes loading the model)"
    )


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]


if __name__ == "__main__":
    sys.exit(main())
