"""Ingestion jobs in a durable store that is also their queue: a 202 survives a crash.

A job and each of its files are committed before the upload is answered; each file's outcome is
written the moment it is known, and its progress (stage, pages, chunks) about once a second, so any
process reading the store can show it. A job is run by whichever worker *claims* it: the claim is a
lease (``worker``, ``lease_until``) that the worker renews while it works. A worker that dies stops
renewing; when the lease runs out another worker claims the job and ingests the files still pending
(the documents already indexed stay).

Two back ends share the SQL: :class:`SqliteJobStore` (one machine, ``data/jobs.sqlite``) and the
PostgreSQL one (``job_store_pg``; claims use ``FOR UPDATE SKIP LOCKED``: no job is taken twice).
"""

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

_TABLES = [
    """CREATE TABLE IF NOT EXISTS jobs ( id TEXT PRIMARY KEY, kb TEXT NOT NULL, status TEXT NOT
        NULL, created DOUBLE PRECISION NOT NULL, finished DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS job_files ( job_id TEXT NOT NULL, idx INTEGER NOT NULL, source
        TEXT NOT NULL, path TEXT NOT NULL, status TEXT NOT NULL, doc_id TEXT, error TEXT, chunks
        INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job_id, idx))""",
    "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, created)",
]
# Added after the first release: (table, column, type). Existing stores get them on open.
_COLUMNS = [
    ("jobs", "cancel_requested", "INTEGER NOT NULL DEFAULT 0"),
    ("jobs", "worker", "TEXT"),
    ("jobs", "lease_until", "DOUBLE PRECISION NOT NULL DEFAULT 0"),
    *[
        ("job_files", name, "INTEGER NOT NULL DEFAULT 0")
        for name in ("pages_done", "pages_total", "chunks_done", "chunks_total")
    ],
    *[("job_files", name, "TEXT") for name in ("stage", "note")],  # note: e.g. edits dropped
    ("jobs", "kind", "TEXT NOT NULL DEFAULT 'ingest'"),  # ingest | reembed | import | ...
    *[("job_files", name, "DOUBLE PRECISION") for name in ("started", "embed_started", "finished")],
]
PROGRESS_FIELDS = (
    "stage",
    "pages_done",
    "pages_total",
    "chunks_done",
    "chunks_total",
    "started",
    "embed_started",
    "finished",
    "note",
)
_JOB_COLUMNS = ("id", "kb", "status", "created", "finished", "cancel_requested", "kind")
_FILE_COLUMNS = ("idx", "source", "path", "status", "doc_id", "error", "chunks", *PROGRESS_FIELDS)


class JobStore:
    """The SQL both back ends run; a subclass supplies the connection, transactions and
    placeholders."""

    _claim_select = (
        "SELECT id FROM jobs WHERE status = 'running' AND lease_until < ? ORDER BY created LIMIT 1"
    )

    def __init__(self):
        self._lock = threading.Lock()
        # made on first use: a server starts even while the queue is down
        self._schema_ready = False

    @contextlib.contextmanager
    def _tx(self):
        """``run(sql, args=()) -> rows``, all in one transaction; the tables made or extended
        first."""
        if not self._schema_ready:
            with self._begin() as run:
                self._schema_lock(run)
                for sql in _TABLES:
                    run(sql)
                have = self._columns(run)
                for table, column, kind in _COLUMNS:
                    if column not in have.get(table, set()):
                        run(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            self._schema_ready = True
        with self._begin() as run:
            yield run

    transaction = _tx  # for other tables kept beside the jobs (answers and their feedback)

    # --- back-end specific ---------------------------------------------------------------------
    def _begin(self):
        """A context manager giving ``run(sql, args=()) -> rows``, all in one transaction."""
        raise NotImplementedError

    def _columns(self, run) -> dict[str, set[str]]:
        raise NotImplementedError

    def _schema_lock(self, run) -> None:
        """Held while the tables are created or extended (several processes may start at once)."""

    def ping(self) -> None:
        with self._tx() as run:
            run("SELECT 1")

    def close(self) -> None:
        raise NotImplementedError

    # --- jobs ----------------------------------------------------------------------------------
    def create(
        self,
        job_id: str,
        kb: str,
        files: list[tuple[Path, str]],
        created: float,
        kind: str = "ingest",
    ) -> None:
        with self._tx() as run:
            run(
                "INSERT INTO jobs (id, kb, status, created, kind) VALUES (?, ?, 'running', ?, ?)",
                (job_id, kb, created, kind),
            )
            for i, (path, source) in enumerate(files):
                run(
                    "INSERT INTO job_files (job_id, idx, source, path, status, stage) "
                    "VALUES (?, ?, ?, ?, 'pending', 'queued')",
                    (job_id, i, source, str(path)),
                )

    def claim(self, worker: str, lease_s: float) -> dict | None:
        """The oldest running job nobody holds a live lease on, now leased to ``worker``; None if
        none."""
        now = time.time()
        with self._tx() as run:
            rows = run(self._claim_select, (now,))
            if not rows:
                return None
            run(
                "UPDATE jobs SET worker = ?, lease_until = ? WHERE id = ?",
                (worker, now + lease_s, rows[0][0]),
            )
        return self.get(rows[0][0])

    def renew(self, job_id: str, worker: str, lease_s: float) -> tuple[bool, bool]:
        """Extend the lease: (still ours, cancel requested)."""
        with self._tx() as run:
            run(
                "UPDATE jobs SET lease_until = ? WHERE id = ? AND worker = ? AND status ="
                " 'running'",
                (time.time() + lease_s, job_id, worker),
            )
            row = run("SELECT worker, cancel_requested FROM jobs WHERE id = ?", (job_id,))
        return (bool(row) and row[0][0] == worker), bool(row and row[0][1])

    def release(self, job_id: str, worker: str) -> None:
        """Give a job back unfinished (a worker shutting down): the next claim takes it at once."""
        with self._tx() as run:
            run(
                "UPDATE jobs SET worker = NULL, lease_until = 0 WHERE id = ? AND worker = ?",
                (job_id, worker),
            )

    def release_all(self) -> int:
        """Every lease dropped: on one machine, the only worker that held them was this server's,
        now dead."""
        with self._tx() as run:
            count = len(run("SELECT id FROM jobs WHERE status = 'running' AND lease_until > 0"))
            run("UPDATE jobs SET worker = NULL, lease_until = 0 WHERE status = 'running'")
        return count

    def request_cancel(self, job_id: str) -> None:
        with self._tx() as run:
            run(
                "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'",
                (job_id,),
            )

    def file_done(
        self,
        job_id: str,
        idx: int,
        worker: str | None,
        status: str,
        doc_id: str | None,
        error: str | None,
        chunks: int,
    ) -> None:
        """A file's outcome, written only while ``worker`` holds the job (a worker that lost its
        lease must not overwrite what the new holder writes)."""
        with self._tx() as run:
            run(
                "UPDATE job_files SET status = ?, doc_id = ?, error = ?, chunks = ?, stage ="
                " 'done', finished = ? WHERE job_id = ? AND idx = ? AND status = 'pending' AND"
                " EXISTS (SELECT 1 FROM jobs WHERE id = ? AND worker IS NOT DISTINCT FROM ?)",
                (status, doc_id, error, chunks, time.time(), job_id, idx, job_id, worker),
            )

    def progress(self, job_id: str, idx: int, fields: dict) -> None:
        names = [name for name in PROGRESS_FIELDS if name in fields]
        if names:
            with self._tx() as run:
                run(
                    f"UPDATE job_files SET {', '.join(f'{n} = ?' for n in names)} "
                    "WHERE job_id = ? AND idx = ? AND status = 'pending'",
                    (*[fields[n] for n in names], job_id, idx),
                )

    def finish(self, job_id: str, worker: str | None, status: str = "done") -> bool:
        with self._tx() as run:
            rows = run(
                "UPDATE jobs SET status = ?, finished = ?, worker = NULL, lease_until = 0 "
                "WHERE id = ? AND status = 'running' AND worker IS NOT DISTINCT FROM ?"
                " RETURNING id",
                (status, time.time(), job_id, worker),
            )
        return bool(rows)

    def get(self, job_id: str) -> dict | None:
        with self._tx() as run:
            rows = run(
                "SELECT id, kb, status, created, finished, cancel_requested, kind FROM jobs "
                "WHERE id = ?",
                (job_id,),
            )
            if not rows:
                return None
            files = run(
                f"SELECT {', '.join(_FILE_COLUMNS)} FROM job_files WHERE job_id = ? ORDER BY idx",
                (job_id,),
            )
        job = dict(zip(_JOB_COLUMNS, rows[0]))
        job["files"] = [dict(zip(_FILE_COLUMNS, f)) for f in files]
        return job

    def ids(self, status: str | None = None, limit: int = 50) -> list[str]:
        """Job ids, newest first."""
        sql = "SELECT id FROM jobs"
        args: tuple[str, ...] = ()
        if status:
            sql, args = sql + " WHERE status = ?", (status,)
        with self._tx() as run:
            return [r[0] for r in run(sql + " ORDER BY created DESC LIMIT ?", (*args, limit))]

    def prune(self, older_than: float) -> list[dict]:
        """Forget finished jobs that ended before ``older_than``; returns them (their files' paths
        included)."""
        with self._tx() as run:
            ids = [
                r[0]
                for r in run(
                    "SELECT id FROM jobs WHERE status != 'running' AND finished < ?", (older_than,)
                )
            ]
        pruned = [job for job in (self.get(i) for i in ids) if job]
        for job_id in ids:
            with self._tx() as run:
                run("DELETE FROM job_files WHERE job_id = ?", (job_id,))
                run("DELETE FROM jobs WHERE id = ?", (job_id,))
        return pruned


class SqliteJobStore(JobStore):
    """One machine: a file in the data dir, every commit on disk before it returns."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        # an accepted upload must be on disk before the 202
        self._db.execute("PRAGMA synchronous=FULL")
        super().__init__()

    @contextlib.contextmanager
    def _begin(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # one writer at a time: a claim cannot race another
            try:
                yield lambda sql, args=(): self._db.execute(sql, args).fetchall()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _columns(self, run) -> dict[str, set[str]]:
        return {t: {r[1] for r in run(f"PRAGMA table_info({t})")} for t in ("jobs", "job_files")}

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _store_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
    try:
        import psycopg
    except ImportError:
        return errors
    return (*errors, psycopg.Error)


STORE_ERRORS = _store_errors()  # what a job store raises when it cannot be reached or written
