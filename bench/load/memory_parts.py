"""Which part of the server's work grows native memory: one part at a time (embed, ingest+delete,
search, ask) in --threads threads of one process, as fast as it goes, with RSS sampled every
--sample-s seconds and its slope after --warmup-s printed. Faster than the soak's paced load, so a
few minutes show a growth the soak needs an hour for.

python -m bench.load.memory_parts --part embed --seconds 240
MALLOC_ARENA_MAX=2 python -m bench.load.memory_parts --part ask   # the allocator's settings come
                                                                   # from the environment
python -m bench.load.memory_parts --part ask --heap-trim-s 30   # with the server's heap trimmer
"""

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

from bench.load.soak_load import TOPICS
from bench.load.soak_sampling import least_squares

PARTS = ("embed", "ingest", "search", "ask")


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def policy_text(rng: random.Random, n: int) -> str:
    topic = rng.choice(TOPICS)
    return "\n\n".join(
        f"第{n}号{topic}制度第{i}条：员工应当按照公司规定办理{topic}相关事务，编号{n}-{i}。"
        for i in range(rng.randint(5, 30))
    )


def make_work(part: str, ops, folder: Path):
    """One unit of ``part``'s work as a function of a random generator and a counter."""
    from app.operations.answers import AskOptions
    from app.operations.errors import NotFound

    kb = "parts"

    def embed(rng: random.Random, n: int) -> None:
        texts = [policy_text(rng, n)[: rng.randint(20, 1500)] for _ in range(rng.randint(1, 16))]
        ops.services.embeddings.embed_documents(texts)

    def ingest(rng: random.Random, n: int) -> None:
        path = folder / f"doc-{n:05d}.txt"
        path.write_text(policy_text(rng, n), encoding="utf-8")
        ops.knowledge.ingest(kb, [(path, path.name)])
        path.unlink()
        docs = [d for d in ops.knowledge.documents(kb) if d.status == "indexed"]
        for doc in rng.sample(docs, max(0, len(docs) - 100)):  # a steady size, as in the soak
            try:
                ops.knowledge.delete_document(kb, doc.doc_id)
            except NotFound:  # another thread deleted it first
                pass

    def search(rng: random.Random, n: int) -> None:
        ops.search.search(kb, f"{rng.choice(TOPICS)}的规定是什么", k=5)

    def ask(rng: random.Random, n: int) -> None:
        ops.answers.ask(f"{rng.choice(TOPICS)}有哪些规定？", [], AskOptions(kb=kb))

    return {"embed": embed, "ingest": ingest, "search": search, "ask": ask}[part]


def seed(ops, folder: Path, docs: int = 60) -> None:
    rng = random.Random(0)
    files = []
    for n in range(docs):
        path = folder / f"seed-{n:03d}.txt"
        path.write_text(policy_text(rng, n), encoding="utf-8")
        files.append((path, path.name))
    ops.knowledge.ingest("parts", files)


def trim() -> float:
    """glibc's malloc_trim(0): hand freed heap pages back to the system; RSS after it."""
    import ctypes

    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mb()


def run(
    part: str,
    seconds: float,
    threads: int,
    sample_s: float,
    model: str,
    trims: bool,
    heap_trim_s: float = 0,
) -> list:
    from app.heap_trim import HeapTrimmer
    from app.operations import Operations
    from app.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        settings = Settings(
            data_dir=Path(tmp) / "data",
            local_model=model,
            llm_max_tokens=48,
            preload_model=False,
            _env_file=None,
        )
        ops = Operations.from_settings(settings, run_jobs=True)
        seed(ops, folder)
        work = make_work(part, ops, folder)
        trimmer = HeapTrimmer(heap_trim_s).start()
        stop, counter, lock = threading.Event(), [0], threading.Lock()

        def loop(worker: int) -> None:
            rng = random.Random(worker)
            while not stop.is_set():
                with lock:
                    counter[0] += 1
                    n = 1000 * (worker + 1) + counter[0]
                work(rng, n)

        pool = [threading.Thread(target=loop, args=(w,), daemon=True) for w in range(threads)]
        t0, samples = time.monotonic(), [(0.0, rss_mb())]
        for thread in pool:
            thread.start()
        while time.monotonic() - t0 < seconds:
            time.sleep(sample_s)
            samples.append((time.monotonic() - t0, rss_mb()))
            after = f"  -> {trim():7.0f} MB trimmed" if trims else ""
            print(
                f"{samples[-1][0]:7.0f} s  {samples[-1][1]:7.0f} MB{after}  {counter[0]} units",
                flush=True,
            )
        stop.set()
        for thread in pool:
            thread.join(300)
        trimmer.stop()
        ops.knowledge.shutdown()
        return samples


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--part", choices=PARTS, required=True)
    ap.add_argument("--seconds", type=float, default=240)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--sample-s", type=float, default=15)
    ap.add_argument("--warmup-s", type=float, default=60)
    ap.add_argument("--trim", action="store_true", help="malloc_trim(0) after every sample")
    ap.add_argument("--model", default="gemma-3-270m", help="KB_LOCAL_MODEL for --part ask")
    ap.add_argument(
        "--heap-trim-s", type=float, default=0, help="run the server's HeapTrimmer (KB_HEAP_TRIM_S)"
    )
    args = ap.parse_args()
    samples = run(
        args.part,
        args.seconds,
        args.threads,
        args.sample_s,
        args.model,
        args.trim,
        args.heap_trim_s,
    )
    later = [(t / 3600, mb) for t, mb in samples if t >= args.warmup_s]
    slope = least_squares([t for t, _ in later], [mb for _, mb in later]) or 0.0
    print(
        f"{args.part}: RSS {samples[0][1]:.0f} -> {samples[-1][1]:.0f} MB; "
        f"slope after {args.warmup_s:.0f} s: {slope:+.0f} MB/h"
    )


if __name__ == "__main__":
    main()
