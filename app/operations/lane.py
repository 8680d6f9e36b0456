"""The local model's lane: one answer at a time, first come first served, with a bound on waiting.

A llama.cpp context is not reentrant and 2 cores run one answer well, so questions for the local
model take turns. A waiting question is told its place (``Queued``) until its turn comes; one past
the bound is refused at once (``Busy``: HTTP 429 with Retry-After) instead of waiting minutes; a
question whose asker left is dropped before the model reads it. Remote providers do not take turns.
"""

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from app.operations.errors import OperationError

# Until an answer has been timed, a wait is guessed from this (a short local answer on 2 cores).
_FIRST_GUESS_S = 15.0


@dataclass(frozen=True)
class Queued:
    """Waiting for the model: ``position`` questions come first (the one being answered included),
    about ``wait_s`` seconds (None until an answer has been timed)."""

    position: int
    wait_s: float | None


class Busy(OperationError):
    """Too many questions wait already; ``retry_after_s`` is when one is likely to have left."""

    status = 429

    def __init__(self, message: str, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Ticket:
    """One question's place in the lane."""

    def __init__(self) -> None:
        self.started: float | None = None  # when its turn came
        self.left = False


class AnswerLane:
    def __init__(self, max_waiting: int, recent: int = 8):
        self.max_waiting = max_waiting
        self._changed = threading.Condition()
        self._line: deque[Ticket] = deque()  # the head has the model once it has started
        self._durations: deque[float] = deque(maxlen=recent)
        self.served = 0  # questions that got their turn (tests and /health read it)

    # --- joining and leaving -------------------------------------------------------------------
    def join(self) -> Ticket:
        """A place at the end of the line; ``Busy`` when it would have to wait and
        ``max_waiting`` questions wait already."""
        with self._changed:
            if self._line and self._waiting() >= self.max_waiting:
                wait = self._estimate(len(self._line)) or _FIRST_GUESS_S
                raise Busy(
                    f"the model is busy: {self._waiting()} question(s) waiting already "
                    f"(at most {self.max_waiting}); ask again in about {math.ceil(wait)} s",
                    retry_after_s=max(1, math.ceil(self._mean() or _FIRST_GUESS_S)),
                )
            ticket = Ticket()
            self._line.append(ticket)
            return ticket

    def leave(self, ticket: Ticket) -> None:
        """Done, or gone before its turn: either way the next one may start. Idempotent."""
        with self._changed:
            if ticket.left:
                return
            ticket.left = True
            if ticket.started is not None:
                self._durations.append(time.monotonic() - ticket.started)
            self._line.remove(ticket)
            self._changed.notify_all()

    def wait_turn(self, ticket: Ticket, timeout_s: float | None) -> bool:
        """True once it is this ticket's turn (it then holds the model until it leaves); False
        after ``timeout_s`` with the turn still to come."""
        with self._changed:
            if self._changed.wait_for(lambda: self._line[0] is ticket, timeout_s):
                if ticket.started is None:
                    ticket.started = time.monotonic()
                    self.served += 1
                return True
            return False

    # --- what a waiting question is told ------------------------------------------------------
    def queued(self, ticket: Ticket) -> Queued:
        with self._changed:
            position = self._line.index(ticket)
            return Queued(position, self._estimate(position))

    @property
    def waiting(self) -> int:
        with self._changed:
            return self._waiting()

    def _waiting(self) -> int:
        running = bool(self._line) and self._line[0].started is not None
        return len(self._line) - running

    def _mean(self) -> float | None:
        return sum(self._durations) / len(self._durations) if self._durations else None

    def _estimate(self, position: int) -> float | None:
        """Seconds until ``position`` questions are answered: the running one's rest, then the
        recent mean each."""
        mean = self._mean()
        if mean is None or position == 0:
            return None if mean is None else 0.0
        head = self._line[0] if self._line else None
        running_rest = mean
        if head is not None and head.started is not None:
            running_rest = max(1.0, mean - (time.monotonic() - head.started))
        return round(running_rest + (position - 1) * mean, 1)


class TurnStream:
    """One question's events: ``Queued`` while it waits (when its place changes, and every
    ``heartbeat_s`` so a gone client is noticed), then the answer's own events.

    ``cancel()`` may come from any thread (a front door whose client left; also on garbage
    collection): the question leaves the lane, and an answer under way stops at its next event.
    """

    def __init__(
        self,
        lane: AnswerLane | None,
        answer: Callable[[], Iterator],
        poll_s: float = 0.5,
        heartbeat_s: float = 5.0,
    ):
        # joined now, so a full lane is refused before a front door starts its response
        self._lane, self._ticket = lane, lane.join() if lane is not None else None
        self._answer, self._events = answer, cast(Iterator | None, None)
        self._poll_s, self._heartbeat_s = poll_s, heartbeat_s
        self._told: tuple[Queued | None, float] = (None, 0.0)  # last Queued sent, and when
        self._state = threading.Lock()
        self._busy = self._cancelled = False

    def __iter__(self) -> "TurnStream":
        return self

    def __next__(self):
        with self._state:
            if self._cancelled:
                raise StopIteration
            self._busy = True
        try:
            return self._next_event()
        except BaseException:  # StopIteration included: the answer ended, the lane is free
            self._close()
            raise
        finally:
            with self._state:
                self._busy = False
                cancelled = self._cancelled
            if cancelled:
                self._close()

    def cancel(self) -> None:
        with self._state:
            self._cancelled = True
            busy = self._busy
        if not busy:  # else the thread inside __next__ closes on its way out
            self._close()

    def __del__(self) -> None:
        if getattr(self, "_state", None) is not None:
            self.cancel()

    def _next_event(self):
        if self._events is None:
            update = self._wait_for_turn()
            if update is not None:
                return update
            self._events = iter(self._answer())
        return next(self._events)

    def _wait_for_turn(self) -> Queued | None:
        """None when the turn has come; a ``Queued`` worth telling otherwise."""
        lane, ticket = self._lane, self._ticket
        if lane is None or ticket is None:
            return None
        first = self._told[0] is None
        while not lane.wait_turn(ticket, 0 if first else self._poll_s):
            if self._cancelled:
                raise StopIteration
            now, place = time.monotonic(), lane.queued(ticket)
            last, sent = self._told
            if first or place.position != (last.position if last else None):
                self._told = (place, now)
                return place
            if now - sent >= self._heartbeat_s:
                self._told = (place, now)
                return place
        return None

    def _close(self) -> None:
        events, self._events = self._events, None
        close = getattr(events, "close", None)
        if close is not None:
            close()  # the model stops (a local model's generation lock is released)
        if self._lane is not None and self._ticket is not None:
            self._lane.leave(self._ticket)
