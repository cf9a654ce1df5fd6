"""Jobs of a class with a processing window are created due at its next opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from window_jobs import AlwaysOpen, NightlyReport

import rocketjob as rj
from rocketjob.store import Store

WINDOW = NightlyReport.processing_window
assert WINDOW is not None


def test_a_job_created_outside_its_window_is_scheduled_for_the_opening(store: Store) -> None:
    job = NightlyReport.create(path="-")
    assert job.run_at == WINDOW.next_opening(datetime.now(UTC))
    assert rj.Job.find(job.id).run_at == job.run_at  # type: ignore[arg-type]
    later = datetime.now(UTC) + timedelta(days=1)
    scheduled = NightlyReport.create(path="-", run_at=later)
    assert scheduled.run_at == WINDOW.next_opening(later)


def test_jobs_created_many_at_once_are_scheduled_alike(store: Store) -> None:
    ids = NightlyReport.create_many([{"path": "-"}, {"path": "-", "priority": 1}])
    opening = WINDOW.next_opening(datetime.now(UTC))
    assert [rj.Job.find(i).run_at for i in ids] == [opening, opening]


def test_a_job_created_inside_its_window_keeps_its_run_at(store: Store) -> None:
    assert AlwaysOpen.create(path="-").run_at is None
    soon = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    assert AlwaysOpen.create(path="-", run_at=soon).run_at == soon
    [many] = AlwaysOpen.create_many([{"path": "-"}])
    assert rj.Job.find(many).run_at is None
