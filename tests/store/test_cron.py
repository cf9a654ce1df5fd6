"""Cron on the store: one instance waits for each schedule, and claiming it creates the
next in the same transaction; on both backends, with a clock the test sets."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from cron_jobs import EveryMinute, NineInParis

import rocketjob as rj
from rocketjob.store import Store
from rocketjob.worker.cron import CronKeeper

START = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(store: Store) -> Clock:
    clock = Clock()
    store.clock = clock
    return clock


def keeper(store: Store) -> CronKeeper:
    return CronKeeper(store, [EveryMinute, NineInParis])


def waiting(store: Store) -> dict[str, datetime]:
    return {row["class_name"]: row["next_run_at"] for row in store.list_cron()}


def test_a_worker_start_leaves_one_instance_waiting_per_schedule(
    store: Store, clock: Clock
) -> None:
    for _ in range(3):  # three workers start
        keeper(store).sync()
    assert waiting(store) == {
        "cron_jobs.EveryMinute": datetime(2026, 3, 2, 8, 1, tzinfo=UTC),
        "cron_jobs.NineInParis": datetime(2026, 3, 3, 8, 0, tzinfo=UTC),  # 09:00 in Paris
    }
    assert rj.Job.counts()["scheduled"] == 2


def test_claiming_an_instance_creates_the_next_in_the_same_transaction(
    store: Store, clock: Clock
) -> None:
    cron = keeper(store)
    cron.sync()
    clock.now = datetime(2026, 3, 2, 8, 1, 5, tzinfo=UTC)
    (row,) = cron.claim(lambda: store.claim_jobs("host:1", 10, include="EveryMinute"))
    assert row["class_name"] == "cron_jobs.EveryMinute"
    assert waiting(store)["cron_jobs.EveryMinute"] == datetime(2026, 3, 2, 8, 2, tzinfo=UTC)
    (listed,) = [r for r in store.list_cron() if r["class_name"] == "cron_jobs.EveryMinute"]
    assert (listed["last_job_id"], listed["last_outcome"]) == (row["id"], "running")


def test_missed_occurrences_collapse_into_one_run(store: Store, clock: Clock) -> None:
    cron = keeper(store)
    cron.sync()
    clock.now = datetime(2026, 3, 2, 11, 30, 10, tzinfo=UTC)  # no worker for 3 1/2 hours
    rows = cron.claim(lambda: store.claim_jobs("host:1", 10, include="EveryMinute"))
    assert len(rows) == 1
    assert waiting(store)["cron_jobs.EveryMinute"] == datetime(2026, 3, 2, 11, 31, tzinfo=UTC)


def test_workers_racing_over_many_occurrences_run_each_once(store: Store, clock: Clock) -> None:
    keeper(store).sync()
    runs: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        cron = keeper(store)
        for _ in range(40):
            rows = cron.claim(lambda: store.claim_jobs(name, 5, include="EveryMinute"))
            with lock:
                runs.extend(row["id"] for row in rows)

    for minute in range(1, 31):
        clock.now = START + timedelta(minutes=minute)
        threads = [threading.Thread(target=worker, args=(f"host:{i}",)) for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(runs) == len(set(runs)) == 30
    assert waiting(store)["cron_jobs.EveryMinute"] == START.replace(second=0) + timedelta(
        minutes=31
    )


def test_a_changed_schedule_moves_the_waiting_instance_and_a_removed_one_drops_it(
    store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper(store).sync()
    monkeypatch.setattr(EveryMinute, "cron", "*/15 * * * *")
    keeper(store).sync()
    assert waiting(store)["cron_jobs.EveryMinute"] == datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
    monkeypatch.setattr(EveryMinute, "cron", None)
    keeper(store).sync()
    assert list(waiting(store)) == ["cron_jobs.NineInParis"]
    assert rj.Job.counts()["all"] == 1


def test_a_paused_instance_stays_paused_and_no_other_is_created(store: Store, clock: Clock) -> None:
    cron = keeper(store)
    cron.sync()
    (pending,) = [r["pending_id"] for r in store.list_cron() if "Minute" in r["class_name"]]
    rj.Job.find(pending).pause()
    clock.now = START + timedelta(minutes=5)
    cron.ensure(force=True)
    assert cron.claim(lambda: store.claim_jobs("host:1", 10, include="EveryMinute")) == []
    assert rj.Job.counts()["paused"] == 1
    rj.Job.find(pending).resume()
    assert len(cron.claim(lambda: store.claim_jobs("host:1", 10, include="EveryMinute"))) == 1
