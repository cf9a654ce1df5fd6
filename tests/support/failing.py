"""Failed jobs as a worker leaves them: claimed, run, and failed with the exception raised."""

from __future__ import annotations

from sample_jobs import Fails

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.execution import load_claimed, perform_claimed


def failed_by_worker(message: str, *, description: str | None = None) -> rj.Job:
    """A Fails job run as a worker runs it: it raises ValueError(message) and fails."""
    store = get_store()
    job = Fails.create(message=message, description=description)
    row = store.claim_job(job.id, "host:1")  # type: ignore[arg-type]
    assert row is not None
    outcome = perform_claimed(*load_claimed(row), "host:1")
    assert outcome.exception is not None
    assert store.fail_claimed_job(outcome.claim, outcome.exception.to_json(), "host:1")
    return job.reload()
