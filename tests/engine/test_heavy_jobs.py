"""The heavy-job queue with real threads: N at once, first come first served, positions,
cancelling while waiting and while running, a slot given back on an exception."""

from __future__ import annotations

import threading

import pytest

from cnnviz import heavy_jobs
from cnnviz.heavy_jobs import HeavyJobs, JobCancelled
from cnnviz.limits import Limits, default_heavy_jobs

TIMEOUT = 10.0  # generous: only reached when the queue is broken


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_never_more_than_n_at_once_and_all_finish():
    jobs, slots, workers = HeavyJobs(2), 2, 12
    lock, inside, most, done = threading.Lock(), [0], [0], []

    def work(number: int) -> None:
        with jobs.slot(f"student {number}", poll_seconds=0.01):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            threading.Event().wait(0.02)  # the job's work
            with lock:
                inside[0] -= 1
                done.append(number)

    threads = [threading.Thread(target=work, args=(number,)) for number in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(done) == list(range(workers))
    assert most[0] == slots  # the limit was reached and never passed
    assert jobs.status() == (0, 0)


def test_first_come_first_served_and_positions():
    jobs = HeavyJobs(1)
    first = jobs.enqueue("a")
    waiting = [jobs.enqueue(name) for name in "bcd"]
    assert first.running and first.position() == 0
    assert [ticket.position() for ticket in waiting] == [1, 2, 3]
    assert jobs.status() == (1, 3)

    order, started = [], threading.Barrier(len(waiting) + 1)

    def wait_then_run(ticket) -> None:
        started.wait(TIMEOUT)
        assert ticket.wait(TIMEOUT)
        order.append(ticket.owner)
        ticket.release()

    # Started in reverse order: the line, not the threads' timing, decides who runs next.
    threads = [threading.Thread(target=wait_then_run, args=(ticket,)) for ticket in reversed(waiting)]
    for thread in threads:
        thread.start()
    started.wait(TIMEOUT)
    assert [ticket.position() for ticket in waiting] == [1, 2, 3]
    first.release()
    for thread in threads:
        thread.join(TIMEOUT)
    assert order == ["b", "c", "d"]
    assert first.position() == -1 and first.state == "released"


def test_cancel_while_waiting_leaves_the_line_and_moves_the_others_up():
    jobs = HeavyJobs(1)
    running, second, third = jobs.enqueue(), jobs.enqueue(), jobs.enqueue()
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(second.wait(TIMEOUT)))
    waiter.start()
    second.cancel()
    waiter.join(TIMEOUT)
    assert woke == [False]  # the blocked wait returned: the ticket will never run
    assert second.state == "cancelled" and second.position() == -1
    assert third.position() == 1
    running.release()
    assert third.wait(0) and third.position() == 0


def test_slot_raises_when_cancelled_while_waiting():
    jobs = HeavyJobs(1)
    holder = jobs.enqueue()
    tickets = []

    def on_wait(position: int) -> None:
        tickets.append(position)
        jobs._line[0].cancel()  # the owner presses Stop while waiting

    with pytest.raises(JobCancelled), jobs.slot(on_wait=on_wait, poll_seconds=0.01):
        pytest.fail("a cancelled job must not run")
    assert tickets == [1]
    assert jobs.status() == (1, 0)
    holder.release()


def test_cancel_while_running_is_seen_by_the_job_and_frees_the_slot_when_it_ends():
    jobs = HeavyJobs(1)
    running, next_in_line = jobs.enqueue("a"), jobs.enqueue("b")
    in_loop, steps, outcome = threading.Event(), [0], []

    def job() -> None:
        try:
            with running:
                while True:
                    running.check()  # between two steps of the work
                    steps[0] += 1
                    in_loop.set()
                    threading.Event().wait(0.001)
        except JobCancelled:
            outcome.append("stopped")

    thread = threading.Thread(target=job)
    thread.start()
    assert in_loop.wait(TIMEOUT)
    running.cancel()  # from another thread, as a Stop press would
    thread.join(TIMEOUT)
    assert outcome == ["stopped"] and steps[0] >= 1
    assert running.state == "cancelled"
    assert next_in_line.wait(TIMEOUT) and next_in_line.position() == 0


def test_a_running_cancelled_job_keeps_its_slot_until_it_ends():
    jobs = HeavyJobs(1)
    running, waiting = jobs.enqueue(), jobs.enqueue()
    running.cancel()
    assert running.cancelled and running.running  # still computing its current step
    assert not waiting.wait(0)  # so no second job computes beside it
    running.release()
    assert waiting.wait(0)


def test_slot_released_on_exception():
    jobs = HeavyJobs(1)
    with pytest.raises(ZeroDivisionError), jobs.slot("a"):
        raise ZeroDivisionError("a job that fails")
    assert jobs.status() == (0, 0)
    with pytest.raises(RuntimeError), jobs.enqueue("b") as ticket:
        assert ticket.running
        raise RuntimeError("the training step failed")
    assert ticket.state == "released" and jobs.status() == (0, 0)
    with jobs.slot("c") as ticket:  # the queue still works
        assert ticket.running


def test_an_abandoned_ticket_gives_its_place_away():
    clock = FakeClock()
    jobs = HeavyJobs(1, idle_seconds=30, clock=clock)
    gone, gone_waiting, staying = jobs.enqueue("closed tab"), jobs.enqueue("closed tab too"), jobs.enqueue("here")
    assert staying.position() == 2
    clock.now = 20
    assert staying.position() == 2  # asking keeps it alive
    clock.now = 31
    assert staying.position() == 0
    assert gone.state == gone_waiting.state == "abandoned" and gone.cancelled


def test_a_ticket_inside_with_is_computing_and_never_abandoned():
    clock = FakeClock()
    jobs = HeavyJobs(1, idle_seconds=30, clock=clock)
    with jobs.enqueue("a long forward pass") as busy:
        waiting = jobs.enqueue("b")
        clock.now = 100
        assert waiting.position() == 1 and busy.running
    assert waiting.position() == 0


def test_waiting_tickets_sleep_until_something_changes():
    """Waiters wake when a slot frees or their ticket ends, not for each other: four students
    waiting behind one job once woke one another without end, a busy loop that took the
    server's interpreter from everyone's sliders (bench/RESULTS.md, issue 15)."""
    jobs = HeavyJobs(1)
    running = jobs.enqueue("the job")
    waiting = [jobs.enqueue(f"student {number}") for number in range(4)]
    wakes = [0]
    condition = jobs._changed
    original_wait = condition.wait

    def counted_wait(timeout=None):
        wakes[0] += 1
        return original_wait(timeout)

    condition.wait = counted_wait
    threads = [threading.Thread(target=ticket.wait, args=(0.5,)) for ticket in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert all(not ticket.running for ticket in waiting)
    assert wakes[0] <= 4 * 2  # each waiter: one wait of its 0.5 s (a spurious wake or two at most)
    running.release()
    assert waiting[0].wait(TIMEOUT) and waiting[0].running  # a freed slot still wakes the next in line


def test_invalid_slots_are_refused():
    with pytest.raises(ValueError, match="At least one"):
        HeavyJobs(0)


def test_limits_from_environment():
    assert Limits.from_environment({}).heavy_jobs == default_heavy_jobs()
    assert Limits.from_environment({"CNNVIZ_HEAVY_JOBS": " 3 "}).heavy_jobs == 3
    with pytest.raises(ValueError, match="CNNVIZ_HEAVY_JOBS must be a whole number"):
        Limits.from_environment({"CNNVIZ_HEAVY_JOBS": "many"})
    with pytest.raises(ValueError, match="At least one"):
        Limits.from_environment({"CNNVIZ_HEAVY_JOBS": "0"})
    assert [default_heavy_jobs(cores) for cores in (1, 2, 4, 16)] == [1, 1, 3, 15]


def test_shared_queue_is_one_per_process(monkeypatch):
    heavy_jobs._make_shared.cache_clear()
    monkeypatch.setenv("CNNVIZ_HEAVY_JOBS", "3")
    try:
        made = []
        threads = [threading.Thread(target=lambda: made.append(heavy_jobs.shared())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
        assert len({id(queue) for queue in made}) == 1 and made[0].slots == 3
    finally:
        heavy_jobs._make_shared.cache_clear()
