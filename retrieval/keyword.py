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
from retrieval.stopwords import BASE as _STOPWORDS
from retrieval.stopwords import CHINESE_EXTRA

_WORD = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Chinese function words (retrieval/stopwords.py) also left out of a query when on. Measured on the
# long-document benchmark (README, "Long documents"): no win (IDF already discounts them), so off.
CHINESE_STOPWORDS = False


# English words are indexed through a light suffix-stripping stem (both sides), so "represented" meets
# "represents"; measured on the long-document benchmark (README, "Long documents").
STEM_ENGLISH = True


def stem(word: str) -> str:
    """A light English stem: plural -s/-es/-ies, -ing, -ed (words of 4+ letters, ASCII letters only)."""
    if len(word) < 4 or not (word.isascii() and word.isalpha()):
        return word
    for suffix, repl, keep in (("ies", "y", 2), ("sses", "ss", 2), ("ing", "", 3), ("ed", "", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_STEMMED_STOPWORDS = frozenset(stem(w) for w in _STOPWORDS)


class Tokenizer:
    """jieba for Chinese (search mode: words and their sub-words), lowercase words for the rest; text is
    folded first (retrieval/normalize.py), so Traditional and Simplified, full- and half-width meet."""

    def __init__(self):
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()

    def tokens(self, text: str) -> list[str]:
        out: list[str] = []
        for run in _WORD.findall(fold(text)):
            if _CJK.search(run):
                out.extend(t for t in self._jieba.cut_for_search(run) if t.strip())
            else:
                out.append(stem(run) if STEM_ENGLISH else run)
        return out

    def query_terms(self, text: str) -> list[str]:
        seen: dict[str, None] = {}
        for tok in self.tokens(text):
            if tok in _STOPWORDS or (STEM_ENGLISH and tok in _STEMMED_STOPWORDS):
                continue
            if CHINESE_STOPWORDS and tok in CHINESE_EXTRA:
                continue
            seen.setdefault(tok)
        return list(seen)


class KeywordIndex:
    """One FTS5 table per knowledge base (so BM25's document frequencies are that base's own), in one
    SQLite file per data dir."""

    def __init__(self, path: str | Path, tokenizer: Tokenizer | None = None):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        self._tok = tokenizer or Tokenizer()

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
        row = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (f"kw_{kb}",)).fetchone()
        return row is not None

    def add(self, kb: str, doc_id: str, chunks: list[tuple[str, str]]) -> None:
        """``chunks``: (chunk_id, text). One transaction: a document is in whole or not at all."""
        rows = [(" ".join(self._tok.tokens(text)), doc_id, cid) for cid, text in chunks]
        table = self._table(kb)
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
                                 "tokens, doc_id UNINDEXED, chunk_id UNINDEXED, tokenize='unicode61')")
                self._db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
                self._db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def remove(self, kb: str, doc_id: str | None = None) -> None:
        table = self._table(kb)
        with self._lock:
            if not self._exists(kb):
                return
            if doc_id is None:
                self._db.execute(f"DROP TABLE {table}")
            else:
                self._db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))

    def doc_ids(self, kb: str) -> set[str]:
        table = self._table(kb)
        with self._lock:
            if not self._exists(kb):
                return set()
            return {r[0] for r in self._db.execute(f"SELECT DISTINCT doc_id FROM {table}")}

    def search(self, kb: str, query: str, k: int, doc_ids: list[str] | None = None) -> list[tuple[str, float]]:
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

    def coverage(self, kb: str, query: str) -> float:
        """Share of the query's terms that occur anywhere in this knowledge base (0 when none or no terms).

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
            found = sum(1 for t in terms if self._db.execute(sql, ('"' + t.replace('"', '""') + '"',)).fetchone())
        return found / len(terms)

    def close(self) -> None:
        with self._lock:
            self._db.close()
