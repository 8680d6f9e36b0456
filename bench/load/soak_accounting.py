"""The soak's accounting: every file a server accepted (202) ends indexed, duplicate, cancelled or
failed with a reason; none lost, none half-written."""

import collections
import time

import httpx

from bench.load.soak_load import KB, Tally


def account(tally: Tally, base: str, timeout_s: float) -> dict:
    """Wait for every accepted job to end (``timeout_s`` in all), then check each accepted file and
    the documents. A file whose job still runs when the time is up is counted as unfinished, not
    lost: an overloaded machine is slow, which is not the same as losing work."""
    outcomes, lost, unfinished, indexed_names = collections.Counter(), [], [], set()
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=base, timeout=60) as client:
        for job_id, names in tally.accepted.items():
            job = _job_when_done(client, job_id, deadline)
            files = {f["source"]: f for f in (job or {}).get("files", [])}
            for name in names:
                f = files.get(name)
                outcomes[f["status"] if f else "missing"] += 1
                if f is not None and f["status"] == "indexed":
                    indexed_names.add(name)
                if f is not None and job["status"] == "running" and f["status"] in _NOT_DONE:
                    unfinished.append(f"{job_id[:8]}/{name}: {f['status']} when time ran out")
                elif not _accounted(f):
                    lost.append(f"{job_id[:8]}/{name}: {f['status'] if f else 'no such job'}")
        documents = client.get(f"/kbs/{KB}/documents").json()
    partial = [d for d in documents if d["status"] not in ("indexed", "failed")]
    indexed_sources = {d["source"] for d in documents if d["status"] == "indexed"}
    absent = sorted(indexed_names - indexed_sources - tally.deleted)  # said indexed, yet not there
    return {
        "outcomes": outcomes,
        "lost": lost,
        "unfinished": unfinished,
        "partial": partial,
        "absent": absent,
        "documents": len(documents),
    }


_NOT_DONE = ("pending", "running")


def _job_when_done(client: httpx.Client, job_id: str, deadline: float) -> dict | None:
    """The job once it no longer runs, or as it is at the deadline (asked at least once)."""
    while True:
        reply = client.get(f"/jobs/{job_id}")
        job = reply.json() if reply.status_code == 200 else None
        if job is None or job["status"] != "running" or time.monotonic() >= deadline:
            return job
        time.sleep(0.5)


def _accounted(f: dict | None) -> bool:
    return f is not None and (
        f["status"] in ("indexed", "duplicate", "cancelled")
        or (f["status"] == "failed" and bool(f["error"]))
    )
