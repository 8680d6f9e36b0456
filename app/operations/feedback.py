"""Answers people can rate, and their ratings as a test set.

Every answer is remembered under its ``answer_id`` (question, answer, citations, the configuration
that answered) in the job store's database, SQLite or the PostgreSQL of ``KB_QUEUE_URL``, so a
rating sent to any replica finds the answer another gave. Answers nobody rated are forgotten after
``KB_JOB_RETENTION_HOURS``; rated ones stay. ``export`` writes the ratings as a QA set in
``kb eval``'s JSONL form: a 👍 answer, or a 👎 one's correction, is the gold answer, the cited
passages its gold source and page."""

import json
import time
import uuid

from app.operations.errors import InvalidRequest, NotFound

_TABLES = [
    """CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, kb TEXT NOT NULL, question TEXT NOT
        NULL, answer TEXT NOT NULL, citations TEXT NOT NULL, config TEXT NOT NULL, created DOUBLE
        PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS answers_by_created ON answers(created)",
    """CREATE TABLE IF NOT EXISTS feedback (answer_id TEXT PRIMARY KEY, kb TEXT NOT NULL, rating
        TEXT NOT NULL, reason TEXT, correct_answer TEXT, created DOUBLE PRECISION NOT NULL)""",
]
RATINGS = ("up", "down")
_PRUNE_EVERY_S = 600.0


def new_answer_id() -> str:
    return uuid.uuid4().hex


class AnswerLog:
    """``store``: the job store (``app.operations.job_store.JobStore``), whose database holds the
    two tables beside the jobs."""

    def __init__(self, store, keep_s: float):
        self._store, self._keep_s = store, keep_s
        self._ready = False
        self._pruned_at = 0.0

    def _tx(self):
        if not self._ready:
            with self._store.transaction() as run:
                for sql in _TABLES:
                    run(sql)
            self._ready = True
        return self._store.transaction()

    def remember(self, answer_id: str, kb: str, answer, config: dict) -> None:
        """An answer as it was given (``answering.Answer``)."""
        citations = json.dumps([c.as_dict() for c in answer.citations], ensure_ascii=False)
        with self._tx() as run:
            run(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    kb,
                    answer.query,
                    answer.answer,
                    citations,
                    json.dumps(config, ensure_ascii=False),
                    time.time(),
                ),
            )
        self._prune()

    def rate(
        self,
        answer_id: str,
        kb: str,
        rating: str,
        reason: str | None = None,
        correct_answer: str | None = None,
    ) -> dict:
        """A rating of a remembered answer (a second rating replaces the first)."""
        if rating not in RATINGS:
            raise InvalidRequest(f"rating must be one of {', '.join(RATINGS)}, not '{rating}'")
        with self._tx() as run:
            found = run("SELECT kb FROM answers WHERE id = ?", (answer_id,))
            if not found or found[0][0] != kb:
                raise NotFound(f"no answer '{answer_id}' in knowledge base '{kb}'")
            run("DELETE FROM feedback WHERE answer_id = ?", (answer_id,))
            run(
                "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?)",
                (answer_id, kb, rating, reason or None, correct_answer or None, time.time()),
            )
        return self.listed(kb, answer_id=answer_id)[0]

    def listed(self, kb: str, limit: int = 1000, answer_id: str | None = None) -> list[dict]:
        """The rated answers of ``kb``, newest first."""
        sql = (
            "SELECT f.answer_id, f.rating, f.reason, f.correct_answer, f.created, a.question, "
            "a.answer, a.citations, a.config FROM feedback f JOIN answers a ON a.id = f.answer_id "
            "WHERE f.kb = ?"
        )
        args: list = [kb]
        if answer_id is not None:
            sql += " AND f.answer_id = ?"
            args.append(answer_id)
        sql += " ORDER BY f.created DESC LIMIT ?"
        with self._tx() as run:
            rows = run(sql, (*args, limit))
        keys = ("answer_id", "rating", "reason", "correct_answer", "rated_at", "question", "answer")
        return [
            {
                **dict(zip(keys, row[:7])),
                "citations": json.loads(row[7]),
                "config": json.loads(row[8]),
            }
            for row in rows
        ]

    def _prune(self) -> None:
        """Forget unrated answers older than ``keep_s`` (at most every ten minutes)."""
        now = time.time()
        if now - self._pruned_at < _PRUNE_EVERY_S:
            return
        self._pruned_at = now
        with self._tx() as run:
            run(
                "DELETE FROM answers WHERE created < ? "
                "AND id NOT IN (SELECT answer_id FROM feedback)",
                (now - self._keep_s,),
            )


def as_qa_items(rated: list[dict]) -> tuple[list[dict], int]:
    """(QA items in ``kb eval``'s JSONL form, how many ratings had no gold answer: a 👎 without a
    correction)."""
    items, skipped = [], 0
    for row in sorted(rated, key=lambda r: r["rated_at"]):
        gold = row["correct_answer"] if row["rating"] == "down" else row["answer"]
        if not (gold or "").strip():
            skipped += 1
            continue
        cited = row["citations"][0] if row["citations"] else {}
        item = {
            "id": f"feedback-{row['answer_id'][:12]}",
            "question": row["question"],
            "answers": [gold.strip()],
            "rating": row["rating"],
        }
        if cited:
            item["source"] = cited.get("source")
            if cited.get("page") is not None:
                item["page"] = cited["page"]
            item["context"] = cited.get("text")
        items.append(item)
    return items, skipped
