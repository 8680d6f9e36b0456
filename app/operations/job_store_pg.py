"""The job store on PostgreSQL (``KB_QUEUE_URL``): API replicas record jobs, ``kb worker``
processes on several machines claim them. The SQL is the base class's (``job_store``). Also
``open_job_store``: the one place that picks between the two stores."""

import contextlib
import sqlite3
from pathlib import Path

from app.operations.job_store import JobStore, SqliteJobStore


class PostgresJobStore(JobStore):
    """Several machines: API replicas record jobs, ``kb worker`` processes claim them (``SKIP
    LOCKED``)."""

    _claim_select = JobStore._claim_select + " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, connect_timeout_s: float = 5):
        self._url, self._timeout, self._conn = url, connect_timeout_s, None
        super().__init__()

    def _connection(self):
        import psycopg

        # reconnect after a server restart
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(
                self._url, autocommit=True, connect_timeout=max(1, int(self._timeout))
            )
        return self._conn

    @contextlib.contextmanager
    def _begin(self):
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                cursor = conn.cursor()

                def run(sql: str, args=()):
                    cursor.execute(sql.replace("?", "%s"), args)
                    return cursor.fetchall() if cursor.description else []

                yield run

    def _schema_lock(self, run) -> None:
        run("SELECT pg_advisory_xact_lock(7240311)")

    def _columns(self, run) -> dict[str, set[str]]:
        rows = run(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name IN ('jobs', 'job_files') AND table_schema = current_schema()"
        )
        have: dict[str, set[str]] = {}
        for table, column in rows:
            have.setdefault(table, set()).add(column)
        return have

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()


def open_job_store(queue_url: str | None, data_dir: Path) -> JobStore:
    """Postgres when a queue URL is given, else SQLite in the data dir."""
    if queue_url:
        return PostgresJobStore(queue_url)
    return SqliteJobStore(Path(data_dir) / "jobs.sqlite")


def queue_unreachable(exc: BaseException) -> bool:
    """The job store is away for now (PostgreSQL restarting, its connection lost, SQLite busy): the
    same write may work in a moment."""
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "busy" in str(exc)
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(exc, psycopg.OperationalError)  # connection lost, server starting or stopping
