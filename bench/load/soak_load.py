"""The soak's traffic: clients that upload, search, ask and delete against a server until told
to stop, and the tally of what every request got back."""

import collections
import random
import threading
import time

import httpx

KB = "soak"
TOPICS = ["年假", "报销", "差旅", "培训", "设备", "门禁", "加班", "体检"]


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.codes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.unexpected: list[str] = []
        self.accepted: dict[str, list[str]] = {}  # job id -> file names
        self.deleted: set[str] = set()
        self.restarting = threading.Event()
        self.pace = 1.0  # every client's pause between requests is multiplied by this

    def record(
        self, route: str, reply: httpx.Response | None, seconds: float, error: str = ""
    ) -> None:
        with self.lock:
            if reply is None:
                self.codes[route]["down" if self.restarting.is_set() else f"error {error}"] += 1
                return
            self.codes[route][reply.status_code] += 1
            self.latency[route].append(seconds * 1000)
            if reply.status_code >= 500 and not (
                reply.status_code == 503 and self.restarting.is_set()
            ):
                self.unexpected.append(f"{route} {reply.status_code} {reply.text[:120]}")


def call(
    tally: Tally, client: httpx.Client, route: str, method: str, url: str, **kw
) -> httpx.Response | None:
    t0 = time.monotonic()
    try:
        reply = client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        tally.record(route, None, 0, type(exc).__name__)
        return None
    tally.record(route, reply, time.monotonic() - t0)
    return reply


def uploader(tally: Tally, base: str, stop: threading.Event, rng: random.Random) -> None:
    n = 0
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            files = []
            for _ in range(rng.randint(1, 3)):
                n += 1
                topic = rng.choice(TOPICS)
                text = "\n\n".join(
                    f"第{n}号{topic}制度第{i}条：员工应当按照公司规定办理{topic}相关事务，编号{n}-{i}。"
                    for i in range(rng.randint(5, 30))
                )
                files.append(("files", (f"soak-{n:04d}.txt", text.encode())))
            reply = call(
                tally,
                client,
                "POST /kbs/{kb}/documents",
                "POST",
                f"/kbs/{KB}/documents",
                files=files,
            )
            if reply is not None and reply.status_code == 202:
                with tally.lock:
                    tally.accepted[reply.json()["job_id"]] = [f[1][0] for f in files]
            stop.wait(rng.uniform(1.0, 3.0) * tally.pace)


def searcher(tally: Tally, base: str, stop: threading.Event, rng: random.Random) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.is_set():
            query = f"{rng.choice(TOPICS)}的规定是什么"
            call(
                tally,
                client,
                "POST /search",
                "POST",
                "/search",
                json={"kb": KB, "query": query, "k": 5},
            )
            stop.wait(rng.uniform(0.1, 0.5) * tally.pace)


def asker(tally: Tally, base: str, stop: threading.Event, rng: random.Random) -> None:
    with httpx.Client(base_url=base, timeout=300) as client:
        while not stop.is_set():
            question = f"{rng.choice(TOPICS)}有哪些规定？"
            call(tally, client, "POST /ask", "POST", "/ask", json={"kb": KB, "question": question})
            stop.wait(rng.uniform(1.0, 4.0) * tally.pace)


def deleter(tally: Tally, base: str, stop: threading.Event, rng: random.Random) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        while not stop.wait(rng.uniform(5.0, 10.0) * tally.pace):
            reply = call(tally, client, "GET /kbs/{kb}/documents", "GET", f"/kbs/{KB}/documents")
            indexed = (
                [d for d in reply.json() if d["status"] == "indexed"]
                if reply is not None and reply.is_success
                else []
            )
            # more than one when the knowledge base grows past a steady size: an hours-long run
            # then measures leaks, not a growing index
            for doc in rng.sample(indexed, min(len(indexed), 1 + max(0, len(indexed) - 150) // 25)):
                gone = call(
                    tally,
                    client,
                    "DELETE /kbs/{kb}/documents/{id}",
                    "DELETE",
                    f"/kbs/{KB}/documents/{doc['doc_id']}",
                )
                if gone is not None and gone.status_code == 204:
                    with tally.lock:
                        tally.deleted.add(doc["source"])
