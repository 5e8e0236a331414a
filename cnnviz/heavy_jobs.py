"""One budget for heavy work on a shared server: at most N jobs at once, the others in line.

Training slices, filter optimisation, galleries, ImageNet forward passes and attribution
maps each take a core for seconds. Run 30 of them at once on 2 cores and every student
waits, including those moving a slider on a light lesson. So heavy work asks this queue
for a slot first: at most ``slots`` tickets run at once; the others wait first come,
first served, and each can say where it stands ("3rd in line").

A ticket is made by ``HeavyJobs.enqueue`` and is either waiting, running (holding a
slot), or finished (released, cancelled or abandoned). Its owner:

- waits for its turn, blocking (``wait``) or by asking again later (``position``), so
  a page can show the line and stay responsive;
- stops it at any time (``cancel``): a waiting ticket leaves the line, a running one
  sees ``cancelled`` at its next check and gives its slot back when it releases;
- releases it when done (``release``; ``with ticket:`` does it on an exception too).

A page keeps its ticket between reruns, and a student may close the tab at any
moment: a ticket nobody has touched for ``idle_seconds`` is treated as abandoned and
its place or slot goes to the next in line, unless a thread is inside ``with ticket:``
(then it is computing, and its ``finally`` will release it).

Only the standard library: no Streamlit, no torch.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal

from cnnviz.limits import Limits

State = Literal["waiting", "running", "released", "cancelled", "abandoned"]


class JobCancelled(Exception):
    """Raised by ``Ticket.check`` and ``HeavyJobs.slot`` once the job's owner stopped it."""


class Ticket:
    """One heavy job's place in the queue (made by ``HeavyJobs.enqueue``)."""

    def __init__(self, queue: HeavyJobs, number: int, owner: str) -> None:
        self._queue, self.number, self.owner = queue, number, owner
        self.state: State = "waiting"
        self.touched = queue.clock()
        self.held = False  # inside ``with ticket:``: computing, never abandoned

    def __repr__(self) -> str:
        return f"Ticket({self.number}, {self.owner!r}, {self.state})"

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def finished(self) -> bool:
        """Released, cancelled or abandoned: it will never run (again)."""
        return self.state not in ("waiting", "running")

    @property
    def cancelled(self) -> bool:
        """Stopped by its owner (or abandoned): a running job should end at its next check."""
        return self.state in ("cancelled", "abandoned") or self._stop_requested

    _stop_requested = False

    def position(self) -> int:
        """0 while running; 1 for the next in line, 2 behind it...; -1 once finished.
        Asking counts as a sign of life (see ``idle_seconds``)."""
        return self._queue._position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until this ticket runs (True), it is finished, or ``timeout`` seconds pass (False)."""
        return self._queue._wait(self, timeout)

    def check(self) -> None:
        """For a running job's loop: a sign of life; raises ``JobCancelled`` once stopped."""
        self._queue._touch(self)
        if self.cancelled:
            raise JobCancelled(f"Heavy job {self.number} was stopped.")

    def cancel(self) -> None:
        """Stop: a waiting ticket leaves the line at once; a running one keeps its slot until
        ``release`` (its loop sees ``cancelled`` at its next ``check``), so never more than
        ``slots`` jobs compute at once."""
        self._queue._cancel(self)

    def release(self) -> None:
        """Done (or given up): the slot or the place in line goes to the next ticket."""
        self._queue._finish(self, "released")

    def __enter__(self) -> Ticket:
        self.held = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.held = False
        self.release()


class HeavyJobs:
    """A first-come, first-served queue with ``slots`` places running at once.

    Thread-safe: every Streamlit session runs its script in a thread of one process, and
    they all share ``shared()``'s queue.

    Args:
        slots: jobs running at once (at least 1).
        idle_seconds: a ticket untouched for this long is abandoned (its owner went away).
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, slots: int, idle_seconds: float = 15.0, clock: Callable[[], float] = time.monotonic) -> None:
        if slots < 1:
            raise ValueError(f"At least one heavy job must be allowed at once, not {slots}.")
        self.slots, self.idle_seconds, self.clock = slots, idle_seconds, clock
        self._changed = threading.Condition()
        self._line: list[Ticket] = []  # waiting, first come first
        self._running: list[Ticket] = []
        self._numbers = itertools.count(1)

    def enqueue(self, owner: str = "") -> Ticket:
        """A new ticket at the end of the line (running at once if a slot is free).

        Args:
            owner: who asked (a session id), for logs and ``status``.
        """
        with self._changed:
            ticket = Ticket(self, next(self._numbers), owner)
            self._line.append(ticket)
            self._promote()
            return ticket

    @contextlib.contextmanager
    def slot(self, owner: str = "", on_wait: Callable[[int], None] | None = None,
             poll_seconds: float = 0.5) -> Iterator[Ticket]:  # fmt: skip
        """Run a block as a heavy job: wait for a slot, run, release it (on an exception too).

        Args:
            on_wait: called with the ticket's position while it waits (every ``poll_seconds``),
                e.g. to show "2nd in line"; an exception it raises leaves the line.

        Raises:
            JobCancelled: when the ticket is cancelled while waiting.
        """
        with self.enqueue(owner) as ticket:
            while not ticket.wait(poll_seconds):
                if ticket.finished:
                    raise JobCancelled(f"Heavy job {ticket.number} was stopped before it ran.")
                if on_wait is not None:
                    on_wait(ticket.position())
            yield ticket

    def status(self) -> tuple[int, int]:
        """(jobs running, tickets waiting)."""
        with self._changed:
            self._promote()
            return len(self._running), len(self._line)

    # --- under the lock ------------------------------------------------------------------------

    def _promote(self) -> None:
        """Forget abandoned tickets, then give free slots to the first in line; wake the waiters
        only if a ticket changed state (each waiter promotes when it wakes: waking them for
        nothing would have them wake one another without end)."""
        now = self.clock()
        changed = False
        for ticket in [*self._running, *self._line]:
            if not ticket.held and now - ticket.touched > self.idle_seconds:
                self._remove(ticket, "abandoned")
                changed = True
        while self._line and len(self._running) < self.slots:
            ticket = self._line.pop(0)
            ticket.state = "running"
            ticket.touched = now
            self._running.append(ticket)
            changed = True
        if changed:
            self._changed.notify_all()

    def _remove(self, ticket: Ticket, state: State) -> None:
        if ticket in self._line:
            self._line.remove(ticket)
        if ticket in self._running:
            self._running.remove(ticket)
        ticket.state = state

    def _touch(self, ticket: Ticket) -> None:
        with self._changed:
            if not ticket.finished:
                ticket.touched = self.clock()

    def _position(self, ticket: Ticket) -> int:
        with self._changed:
            if not ticket.finished:
                ticket.touched = self.clock()
            self._promote()
            if ticket.running:
                return 0
            return self._line.index(ticket) + 1 if ticket in self._line else -1

    def _wait(self, ticket: Ticket, timeout: float | None) -> bool:
        deadline = None if timeout is None else self.clock() + timeout
        with self._changed:
            while True:
                if not ticket.finished:
                    ticket.touched = self.clock()
                self._promote()
                if ticket.running or ticket.finished:
                    return ticket.running
                left = None if deadline is None else deadline - self.clock()
                if left is not None and left <= 0:
                    return False
                # Woken by any change; re-check at least every second (abandoned tickets expire by the clock).
                self._changed.wait(1.0 if left is None else min(left, 1.0))

    def _cancel(self, ticket: Ticket) -> None:
        with self._changed:
            if ticket.running:
                ticket._stop_requested = True
            elif not ticket.finished:
                self._remove(ticket, "cancelled")
            self._promote()
            self._changed.notify_all()  # its own waiter sees it finished

    def _finish(self, ticket: Ticket, state: State) -> None:
        with self._changed:
            if not ticket.finished:
                self._remove(ticket, "cancelled" if ticket._stop_requested else state)
            self._promote()
            self._changed.notify_all()


_shared_lock = threading.Lock()


@functools.cache
def _make_shared() -> HeavyJobs:
    return HeavyJobs(Limits.from_environment().heavy_jobs)


def shared() -> HeavyJobs:
    """The process's one queue, sized by ``Limits.from_environment().heavy_jobs``."""
    with _shared_lock:  # two first sessions at once still make one queue
        return _make_shared()
