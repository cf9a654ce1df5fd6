"""Throttles on real worker processes: the limit holds across workers, and the other
classes run beside a class at its limit."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from processes import Background, finish, start_rocketjob, wait_until
from throttled_jobs import Charge, Payout, Ping, Refund

import rocketjob as rj
from rocketjob.store import Store


def running(*classes: type[rj.Job]) -> int:
    names = {cls.class_name for cls in classes}
    page = rj.Job.page("running", limit=500)
    return sum(job.class_name in names for job in page.jobs)


@contextmanager
def workers(database_url: str, count: int) -> Iterator[list[Background]]:
    args = ("worker", "--import", "throttled_jobs", "--threads", "10", "--poll-interval", "0.1")
    with ExitStack() as stack:
        started = [start_rocketjob(*args, database_url=database_url) for _ in range(count)]
        for process in started:
            stack.callback(process.close)
        yield started
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            finish(process)


@contextmanager
def sampled(count: Callable[[], int]) -> Iterator[list[int]]:
    """Samples `count()` without pause while the block runs."""
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(count())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        yield samples
    finally:
        done.set()
        sampler.join()


def test_never_more_than_the_limit_run_while_other_classes_drain_beside(
    store: Store, database_url: str
) -> None:
    charges = Charge.create_many([{"seconds": 0.3, "priority": 10}] * 36)
    pings = Ping.create_many([{}] * 600)
    with workers(database_url, 2), sampled(lambda: running(Charge)) as samples:
        # The pings are not held up behind the charges, though these come first.
        wait_until(lambda: rj.Job.counts()["completed"] >= 600, 60, "the pings ran")
        assert Charge.find(charges[-1]).state == rj.State.QUEUED
        wait_until(lambda: rj.Job.counts()["completed"] == 636, 60, "the charges ran")
    assert max(samples) == 3, f"running charges sampled: {sorted(set(samples))}"
    assert len(samples) > 50
    assert all(Ping.find(i).state == rj.State.COMPLETED for i in pings[:5])


def test_classes_of_one_group_share_its_limit_across_workers(
    store: Store, database_url: str
) -> None:
    Refund.create_many([{"seconds": 0.1}] * 8)
    Payout.create_many([{"seconds": 0.1}] * 8)
    with workers(database_url, 2), sampled(lambda: running(Refund, Payout)) as samples:
        wait_until(lambda: rj.Job.counts()["completed"] == 16, 60, "every job ran")
    assert max(samples) == 2, f"running refunds and payouts sampled: {sorted(set(samples))}"
