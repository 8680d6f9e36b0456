"""The scale half of bench.retrieval.search: search latency p50/p95 and process memory at growing
sizes. The first 1k chunks are real (texts and vectors from the quality half's knowledge bases);
larger sizes add copies of them with jittered vectors and shuffled texts, so index sizes are real
while no extra hours of embedding are spent."""

import random
import statistics
import sys
import time


def scale(store, kbs: dict, sizes: list[int]) -> dict[int, float]:
    """Prints the table; returns the hybrid p50 ms per size."""
    import numpy as np
    import psutil

    from retrieval import SearchOptions, search
    from retrieval.registry import DocumentRecord

    base = _base_chunks(kbs, 1000)
    queries = [t[:40] for _, t, _ in random.Random(1).sample(base, min(200, len(base)))]
    rng = np.random.default_rng(0)
    proc = psutil.Process()
    print("\n## Search latency and memory by size (hybrid, k=5)\n")
    print("| chunks | build s | p50 ms | p95 ms | dense p50 ms | keyword p50 ms | process RSS MB |")
    print("|---|---|---|---|---|---|---|")
    hybrid_p50 = {}
    for size in sizes:
        name = f"scale-{size}"
        t0 = time.perf_counter()
        kb = store.get(name, create=True)
        if kb.chunk_count() < size:
            store.delete(name)
            kb = store.get(name, create=True)
            _fill(kb, base, size, rng, DocumentRecord)
        build_s = time.perf_counter() - t0
        timings = {}
        for mode in ("hybrid", "dense", "keyword"):
            lat = []
            for q in queries:
                t1 = time.perf_counter()
                search(kb, q, SearchOptions(k=5, mode=mode))
                lat.append((time.perf_counter() - t1) * 1000)
            timings[mode] = lat
        print(
            f"| {size:,} | {build_s:.0f} | {percentile(timings['hybrid'], 50):.1f} |"
            f" {percentile(timings['hybrid'], 95):.1f} | {percentile(timings['dense'], 50):.1f} |"
            f" {percentile(timings['keyword'], 50):.1f} | {proc.memory_info().rss / 2**20:.0f} |",
            flush=True,
        )
        hybrid_p50[size] = percentile(timings["hybrid"], 50)
    return hybrid_p50


def _base_chunks(kbs: dict, n: int) -> list[tuple[str, str, list[float]]]:
    out = []
    for kb in kbs.values():
        got = kb.collection.get(limit=n // len(kbs), include=["documents", "embeddings"])
        out += [
            (cid, doc, emb)
            for cid, doc, emb in zip(got["ids"], got["documents"], got["embeddings"])
        ]
    return out


def _fill(kb, base, size, rng, DocumentRecord) -> None:
    import numpy as np

    vectors = np.array([b[2] for b in base], dtype=np.float32)
    per_doc, batch = 100, 5000
    texts_all = [b[1] for b in base]
    for start in range(0, size, batch):
        n = min(batch, size - start)
        pick = rng.integers(0, len(base), n)
        vecs = vectors[pick] + rng.normal(0, 0.02, (n, vectors.shape[1])).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        ids = [f"s{start + i}" for i in range(n)]
        docs = [f"d{(start + i) // per_doc}" for i in range(n)]
        texts = [texts_all[p] for p in pick]
        kb.collection.add(
            ids=ids,
            embeddings=vecs.tolist(),
            documents=texts,
            metadatas=[{"doc_id": d, "source": f"{d}.txt"} for d in docs],
        )
        for d in sorted(set(docs)):
            rows = [(i, t) for i, t, dd in zip(ids, texts, docs) if dd == d]
            kb.keyword.add(kb.id, d, rows)
            kb.registry.put(DocumentRecord(d, f"{d}.txt", "indexed", len(rows)))
        print(f"  filled {start + n:,}/{size:,}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1]
