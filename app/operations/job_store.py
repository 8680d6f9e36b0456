"""Ingestion jobs on disk (SQLite in the data dir): a 202 is a promise that survives a crash.

A job and each of its files are written, and committed, before the upload is answered; each file's
outcome is written the moment it is known. On start the server finds the jobs still running and
resumes them: files already indexed stay, the rest are ingested again (a document a killed process left
half-written is rolled back by the store when it is opened). Finished jobs are kept for a while, then
pruned together with their uploaded copies.
"""

import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kb TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL, finished REAL);
CREATE TABLE IF NOT EXISTS job_files (
    job_id TEXT NOT NULL, idx INTEGER NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL, doc_id TEXT, error TEXT, chunks INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, idx));
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, created);
"""


class JobStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # an accepted upload must be on disk before the 202
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _write(self, sql: str, rows: list[tuple] | tuple = ()) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if rows and isinstance(rows, list):
                    self._db.executemany(sql, rows)
                else:
                    self._db.execute(sql, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def create(self, job_id: str, kb: str, files: list[tuple[Path, str]], created: float) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("INSERT INTO jobs (id, kb, status, created) VALUES (?, ?, 'running', ?)",
                                 (job_id, kb, created))
                self._db.executemany(
                    "INSERT INTO job_files (job_id, idx, source, path, status) VALUES (?, ?, ?, ?, 'pending')",
                    [(job_id, i, source, str(path)) for i, (path, source) in enumerate(files)])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def file_done(self, job_id: str, idx: int, status: str, doc_id: str | None, error: str | None,
                  chunks: int) -> None:
        self._write("UPDATE job_files SET status = ?, doc_id = ?, error = ?, chunks = ? WHERE job_id = ? AND idx = ?",
                    (status, doc_id, error, chunks, job_id, idx))

    def finish(self, job_id: str, status: str = "done") -> None:
        self._write("UPDATE jobs SET status = ?, finished = ? WHERE id = ?", (status, time.time(), job_id))

    def get(self, job_id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT id, kb, status, created, finished FROM jobs WHERE id = ?",
                                   (job_id,)).fetchone()
            if row is None:
                return None
            files = self._db.execute("SELECT idx, source, path, status, doc_id, error, chunks FROM job_files "
                                     "WHERE job_id = ? ORDER BY idx", (job_id,)).fetchall()
        return {"id": row[0], "kb": row[1], "status": row[2], "created": row[3], "finished": row[4],
                "files": [{"idx": f[0], "source": f[1], "path": f[2], "status": f[3], "doc_id": f[4],
                           "error": f[5], "chunks": f[6]} for f in files]}

    def ids(self, status: str | None = None, limit: int = 50) -> list[str]:
        """Job ids, newest first."""
        sql, args = "SELECT id FROM jobs", ()
        if status:
            sql, args = sql + " WHERE status = ?", (status,)
        with self._lock:
            return [r[0] for r in self._db.execute(sql + " ORDER BY created DESC LIMIT ?", (*args, limit))]

    def prune(self, older_than: float) -> list[dict]:
        """Forget finished jobs that ended before ``older_than``; returns them (their files' paths included)."""
        with self._lock:
            ids = [r[0] for r in self._db.execute(
                "SELECT id FROM jobs WHERE status != 'running' AND finished < ?", (older_than,))]
        pruned = [job for job in (self.get(i) for i in ids) if job]
        for job_id in ids:
            self._write("DELETE FROM job_files WHERE job_id = ?", (job_id,))
            self._write("DELETE FROM jobs WHERE id = ?", (job_id,))
        return pruned

    def close(self) -> None:
        with self._lock:
            self._db.close()
