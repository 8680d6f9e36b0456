"""Waiting out a store that is briefly gone (a Chroma server or the PostgreSQL queue restarting):
the same call is tried again, backing off 1, 2, 4 .. 30 s, until it works, the caller is told to
stop, or the give-up bound passes."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ingest import Interrupted

log = logging.getLogger("kb.jobs")
T = TypeVar("T")


@dataclass(frozen=True)
class Patience:
    give_up_s: float = 1800.0
    first_s: float = 1.0
    most_s: float = 30.0

    def call(
        self,
        what: str,
        call: Callable[[], T],
        transient: Callable[[BaseException], bool],
        *,
        should_stop: Callable[[], bool] = lambda: False,
        waiting: Callable[[bool], None] = lambda on: None,
        again: Callable[[], None] = lambda: None,
    ) -> T:
        """``call()``; while it fails with a ``transient`` error, ``waiting(True)``, a pause, and
        ``again()`` before the next try (``waiting(False)`` once it works). Raises the last error
        after ``give_up_s``, and ``ingest.Interrupted`` when ``should_stop()`` says so meanwhile."""
        waited, delay = 0.0, self.first_s
        while True:
            try:
                result = call()
            except Exception as exc:
                if not transient(exc) or waited >= self.give_up_s:
                    raise
                log.warning("%s unreachable (%s); trying again in %.0f s", what, exc, delay)
                waiting(True)
                if not _pause(delay, should_stop):
                    raise Interrupted(f"stopped while waiting for the {what}") from exc
                waited, delay = waited + delay, min(delay * 2, self.most_s)
                again()
                continue
            if waited:
                log.info("%s is back after %.0f s", what, waited)
                waiting(False)
            return result


def _pause(seconds: float, should_stop: Callable[[], bool]) -> bool:
    """Sleep in short steps; False as soon as ``should_stop()``."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if should_stop():
            return False
        time.sleep(min(0.25, left))
    return not should_stop()
