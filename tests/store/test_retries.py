"""A failure with a retry left: recorded and queued again in one fenced statement."""

from __future__ import annotations

from datetime import timedelta

from sample_jobs import Kept

import rocketjob as rj
from rocketjob.store import Claim, Store


def test_a_retry_is_written_only_under_the_current_lease(store: Store) -> None:
    job = Kept.create()
    (row,) = store.claim_jobs("host:1", 1)
    claim = Claim(row["id"], row["lease"])
    exception = {"class_name": "TimeoutError", "message": "no answer", "backtrace": []}
    later = store.now() + timedelta(seconds=30)
    assert not store.retry_claimed_job(Claim(claim.id, claim.lease + 1), exception, later, "x")
    assert store.retry_claimed_job(claim, exception, later, "host:1")
    back = job.reload()
    assert (back.state, back.attempt, back.failure_count, back.worker_name) == (
        rj.State.QUEUED,
        1,
        1,
        None,
    )
    assert back.run_at == later
    assert back.exception is not None
    assert back.exception.message == "no answer"
    entry = back.history()[-1]
    assert (entry.action, entry.from_state, entry.to_state, entry.by, entry.message) == (
        "fail",
        "running",
        "queued",
        "host:1",
        "TimeoutError: no answer",
    )
    assert rj.Job.counts()["scheduled"] == 1  # listed as scheduled until it is due
    assert not store.retry_claimed_job(claim, exception, later, "host:1")  # not running now
