"""Operators and cron schedules, from Python: rj.list_cron() and Run now, Pause and Resume
on the job waiting for the next run; on both backends, with a clock the test sets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cron_jobs import EveryMinute, NineInParis

import rocketjob as rj
from rocketjob.store import Store
from rocketjob.worker.cron import CronKeeper

START = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
MINUTE = "cron_jobs.EveryMinute"


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


@pytest.fixture
def keeper(store: Store, clock: Clock) -> CronKeeper:
    """What a worker importing both cron classes does at start."""
    keeper = CronKeeper(store, [EveryMinute, NineInParis])
    keeper.sync()
    return keeper


def claim_minute(store: Store, keeper: CronKeeper) -> list[int]:
    rows = keeper.claim(lambda: store.claim_jobs("host:1", 10, include="EveryMinute"))
    return [row["id"] for row in rows]


def schedule(class_name: str = MINUTE) -> rj.CronInfo:
    (info,) = [info for info in rj.list_cron() if info.class_name == class_name]
    return info


def test_each_schedule_is_listed_in_words_with_its_next_run(keeper: CronKeeper) -> None:
    listed = rj.list_cron()
    assert [info.class_name for info in listed] == [MINUTE, "cron_jobs.NineInParis"]
    minute, nine = listed
    assert (minute.cron, minute.timezone, minute.in_words) == ("* * * * *", "UTC", "Every minute")
    assert (nine.cron, nine.timezone, nine.in_words) == (
        "0 9 * * *",
        "Europe/Paris",
        "At 09:00 every day",
    )
    assert nine.next_run_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    assert rj.Job.find(nine.pending_id).state is rj.State.QUEUED  # type: ignore[arg-type]
    assert (nine.paused, nine.last_job_id, nine.last_outcome, nine.last_job_kept) == (
        False,
        None,
        None,
        False,
    )
    assert nine.actions == [rj.Action.RUN_NOW, rj.Action.PAUSE]
    assert nine.as_dict()["actions"] == ["run_now", "pause"]


def test_the_latest_run_its_outcome_and_whether_its_job_is_still_there(
    store: Store, clock: Clock, keeper: CronKeeper
) -> None:
    clock.now = datetime(2026, 3, 2, 8, 1, 2, tzinfo=UTC)
    (ran,) = claim_minute(store, keeper)
    info = schedule()
    assert (info.last_job_id, info.last_outcome, info.last_started_at) == (
        ran,
        "running",
        clock.now,
    )
    assert info.last_job_kept and info.last_finished_at is None
    assert info.pending_id not in (None, ran)
    clock.now += timedelta(seconds=3)
    store.cron_finished(MINUTE, ran, "completed")  # as the worker records it
    info = schedule()
    assert (info.last_outcome, info.last_finished_at) == ("completed", clock.now)
    rj.Job.find(ran).abort()
    rj.Job.find(ran).destroy()
    assert schedule().last_job_kept is False


def test_run_now_makes_the_waiting_job_due_and_its_run_creates_the_next(
    store: Store, keeper: CronKeeper
) -> None:
    waiting = schedule().pending_id
    assert claim_minute(store, keeper) == []  # 08:01 is still ahead
    info = rj.run_cron_now(MINUTE)
    assert (info.pending_id, info.next_run_at, info.actions) == (waiting, None, [rj.Action.PAUSE])
    assert claim_minute(store, keeper) == [waiting]
    after = schedule()
    assert after.pending_id not in (None, waiting)
    assert after.next_run_at == datetime(2026, 3, 2, 8, 1, tzinfo=UTC)


def test_a_paused_schedule_runs_nothing_and_gets_no_new_job_until_resumed(
    store: Store, clock: Clock, keeper: CronKeeper
) -> None:
    waiting = schedule().pending_id
    info = rj.pause_cron(MINUTE, by="user:ops")
    assert (info.paused, info.pending_id, info.actions) == (True, waiting, [rj.Action.RESUME])
    assert rj.Job.find(waiting).history()[-1].by == "user:ops"  # type: ignore[arg-type]
    clock.now = START + timedelta(minutes=10)
    keeper.ensure(force=True)  # as a running worker does now and then
    assert claim_minute(store, keeper) == []
    assert [job.id for job in rj.Job.page(class_name=MINUTE).jobs] == [waiting]

    info = rj.resume_cron(MINUTE)
    assert (info.paused, info.pending_id) == (False, waiting)
    assert claim_minute(store, keeper) == [waiting]  # the ten missed minutes, as one run
    assert schedule().next_run_at == datetime(2026, 3, 2, 8, 11, tzinfo=UTC)


def test_what_the_state_table_refuses_says_why_and_names_the_job(keeper: CronKeeper) -> None:
    waiting = schedule().pending_id
    with pytest.raises(rj.InvalidTransition) as refused:
        rj.resume_cron(MINUTE)
    the_job = f"job #{waiting}, the next run of {MINUTE}"
    assert str(refused.value) == f"cannot resume a queued job: {the_job}"
    rj.pause_cron(MINUTE)
    with pytest.raises(rj.InvalidTransition) as refused:
        rj.pause_cron(MINUTE)
    assert str(refused.value) == f"cannot pause a paused job: {the_job}"
    with pytest.raises(rj.InvalidTransition) as refused:
        rj.run_cron_now(MINUTE)
    assert str(refused.value) == f"cannot run now a paused job: {the_job}"
    assert schedule().paused


def test_an_unknown_class_is_not_found(keeper: CronKeeper) -> None:
    with pytest.raises(rj.CronNotFound) as missing:
        rj.pause_cron("cron_jobs.Hourly")
    assert str(missing.value) == (
        "no cron schedule of cron_jobs.Hourly: a schedule is known once a worker that "
        "imports its class has started"
    )
    assert isinstance(missing.value, LookupError)


def test_without_a_waiting_job_the_error_says_a_worker_creates_it(keeper: CronKeeper) -> None:
    rj.Job.find(schedule().pending_id).destroy()  # type: ignore[arg-type]
    info = schedule()
    assert (info.pending_id, info.next_run_at, info.paused, info.actions) == (None, None, False, [])
    for act in (rj.run_cron_now, rj.pause_cron, rj.resume_cron):
        with pytest.raises(rj.InvalidTransition) as refused:
            act(MINUTE)
        assert "no job of it is waiting for the next run" in str(refused.value)
        assert "no worker that imports the class has run since" in str(refused.value)
    keeper.ensure(force=True)
    assert schedule().pending_id is not None
