"""Keyword search: BM25 over jieba tokens, in SQLite FTS5.

FTS5 gives a persistent, incremental BM25 index: documents are added and removed in
transactions, and a restart reads nothing but the index file.
"""

import logging
import re
import sqlite3
import threading
from pathlib import Path

from retrieval.normalize import fold
from retrieval.references import find_references
from retrieval.tokenizer import Tokenizer

log = logging.getLogger(__name__)


class KeywordIndex:
    """One FTS5 table per knowledge base (so BM25's document frequencies are that base's own), in
    one SQLite file per data dir."""

    def __init__(self, path: str | Path, tokenizer: Tokenizer | None = None):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        self._tok = tokenizer or Tokenizer()
        self._drop_outdated()

    def _drop_outdated(self) -> None:
        """Empty an index that an older tokenizer wrote; its knowledge bases re-index on open."""
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS kw_meta (key TEXT PRIMARY KEY, value TEXT)"
            )
            # which revision of each document the rows hold (a passage edit bumps it)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS kw_revisions (kb TEXT, doc_id TEXT, revision INTEGER,"
                " PRIMARY KEY (kb, doc_id))"
            )
            row = self._db.execute(
                "SELECT value FROM kw_meta WHERE key = 'tokenizer_version'"
            ).fetchone()
            if row is not None and row[0] == self._tok.signature:
                return
            tables = [
                r[0]
                for r in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'kw\\_%'"
                    " ESCAPE '\\' AND name != 'kw_meta' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
                )
            ]
            if tables:
                log.warning(
                    "keyword index %s was built by an older tokenizer (version %s, now %s): "
                    "re-indexing its %d knowledge base(s) from their stored chunks as they open",
                    self._path_name(),
                    row[0] if row else 1,
                    self._tok.signature,
                    len(tables),
                )
            self._db.execute("BEGIN")
            for table in tables:
                self._db.execute(f'DROP TABLE "{table}"')
            self._db.execute("DELETE FROM kw_revisions")
            self._db.execute(
                "INSERT OR REPLACE INTO kw_meta VALUES ('tokenizer_version', ?)",
                (self._tok.signature,),
            )
            self._db.execute("COMMIT")

    def _path_name(self) -> str:
        row = self._db.execute("PRAGMA database_list").fetchone()
        return row[2] if row else "?"

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer both the index and the queries go through."""
        return self._tok

    @staticmethod
    def _table(kb: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", kb):
            raise ValueError(f"invalid knowledge-base id {kb!r}")
        return f'"kw_{kb}"'

    def _exists(self, kb: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (f"kw_{kb}",)
        ).fetchone()
        return row is not None

    def add(self, kb: str, doc_id: str, chunks: list[tuple[str, str]], revision: int = 0) -> None:
        """``chunks``: (chunk_id, text). One transaction: a document is in whole or not at all."""
        self._write(kb, doc_id, chunks, revision, replace_all=True)

    def replace_rows(
        self, kb: str, doc_id: str, chunks: list[tuple[str, str | None]], revision: int
    ) -> None:
        """Some of a document's rows, in one transaction with its new revision: each (chunk_id,
        text) replaces that chunk's row; a text of None removes it (a disabled passage)."""
        self._write(kb, doc_id, chunks, revision, replace_all=False)

    def _write(self, kb, doc_id, chunks, revision: int, replace_all: bool) -> None:
        rows = [
            (" ".join(self._tok.tokens(text)), doc_id, cid)
            for cid, text in chunks
            if text is not None
        ]
        table = self._table(kb)
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
                    "tokens, doc_id UNINDEXED, chunk_id UNINDEXED, tokenize='unicode61')"
                )
                if replace_all:
                    self._db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
                else:
                    self._db.executemany(
                        f"DELETE FROM {table} WHERE doc_id = ? AND chunk_id = ?",
                        [(doc_id, cid) for cid, _ in chunks],
                    )
                self._db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)
                self._db.execute(
                    "INSERT OR REPLACE INTO kw_revisions VALUES (?, ?, ?)", (kb, doc_id, revision)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def remove(self, kb: str, doc_id: str | None = None) -> None:
        table = self._table(kb)
        with self._lock:
            if doc_id is None:
                self._db.execute("DELETE FROM kw_revisions WHERE kb = ?", (kb,))
            else:
                self._db.execute(
                    "DELETE FROM kw_revisions WHERE kb = ? AND doc_id = ?", (kb, doc_id)
                )
            if not self._exists(kb):
                return
            if doc_id is None:
                self._db.execute(f"DROP TABLE {table}")
            else:
                self._db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))

    def doc_revisions(self, kb: str) -> dict[str, int]:
        """doc id -> the revision its rows hold, for every document indexed (0: written before
        revisions were kept)."""
        table = self._table(kb)
        with self._lock:
            held = {
                r[0]: int(r[1])
                for r in self._db.execute(
                    "SELECT doc_id, revision FROM kw_revisions WHERE kb = ?", (kb,)
                )
            }
            if self._exists(kb):
                for (doc_id,) in self._db.execute(f"SELECT DISTINCT doc_id FROM {table}"):
                    held.setdefault(doc_id, 0)
            return held

    def search(
        self, kb: str, query: str, k: int, doc_ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, bm25 score: higher is better), best first."""
        terms = self._tok.query_terms(query)
        if not terms:
            return []
        table = self._table(kb)
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        sql = f"SELECT chunk_id, -bm25({table}) FROM {table} WHERE {table} MATCH ?"
        params: list = [match]
        if doc_ids:
            sql += f" AND doc_id IN ({','.join('?' * len(doc_ids))})"
            params += list(doc_ids)
        sql += f" ORDER BY bm25({table}) LIMIT ?"
        params.append(k)
        with self._lock:
            if not self._exists(kb):
                return []
            return [(cid, float(score)) for cid, score in self._db.execute(sql, params)]

    def reference_matches(
        self, kb: str, query: str, limit: int, doc_ids: list[str] | None = None
    ) -> dict[str, int]:
        """chunk id -> 2 per numbered reference of ``query`` the chunk holds with its kind (eq13p6),
        1 per one it holds only as the dotted number (n13p6); at most ``limit`` chunks per
        reference."""
        if not self._tok.numbered_references:
            return {}
        out: dict[str, int] = {}
        for ref in find_references(fold(query)):
            best: dict[str, int] = {}
            for token, weight in ((ref.number_token, 1), (ref.token, 2)):
                for cid in self.chunks_with(kb, token, limit, doc_ids) if token else []:
                    best[cid] = weight
            for cid, weight in best.items():
                out[cid] = out.get(cid, 0) + weight
        return out

    def chunks_with(
        self, kb: str, term: str, limit: int, doc_ids: list[str] | None = None
    ) -> list[str]:
        """Ids of chunks whose tokens include ``term`` (an index token, e.g. ``eq13p6``), at most
        ``limit``."""
        table = self._table(kb)
        sql = f"SELECT chunk_id FROM {table} WHERE {table} MATCH ?"
        params: list = ['"' + term.replace('"', '""') + '"']
        if doc_ids:
            sql += f" AND doc_id IN ({','.join('?' * len(doc_ids))})"
            params += list(doc_ids)
        with self._lock:
            if not self._exists(kb):
                return []
            return [r[0] for r in self._db.execute(sql + " LIMIT ?", params + [limit])]

    def coverage(self, kb: str, query: str) -> float:
        """Share of the query's terms that occur anywhere in this knowledge base (0 when none or no
        terms).

        Low for a question asked in another language than the documents' (an English question over a
        Chinese book matches only its names and numbers): the keyword list is then mostly noise."""
        terms = self._tok.query_terms(query)
        if not terms:
            return 0.0
        table = self._table(kb)
        sql = f"SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT 1"
        with self._lock:
            if not self._exists(kb):
                return 0.0
            found = sum(
                1
                for t in terms
                if self._db.execute(sql, ('"' + t.replace('"', '""') + '"',)).fetchone()
            )
        return found / len(terms)

    def close(self) -> None:
        with self._lock:
            self._db.close()
