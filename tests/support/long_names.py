"""Failed jobs whose job class and exception class have very long names, as generated
code can make them."""

from __future__ import annotations

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.execution import load_claimed, perform_claimed


def failed_with_long_names(length: int) -> rj.Job:
    """A job of a class named with `length` more characters, failed by a worker with an
    exception class named as long."""
    rejected = type("Rejected" + "E" * length, (ValueError,), {"__module__": __name__})

    def perform(self: rj.Job) -> None:
        raise rejected("the ledger did not balance")

    nightly = type(
        "Nightly" + "x" * length, (rj.Job,), {"perform": perform, "__module__": __name__}
    )
    store = get_store()
    job = nightly.create()
    row = store.claim_job(job.id, "host:1")  # type: ignore[arg-type]
    assert row is not None
    outcome = perform_claimed(*load_claimed(row), "host:1")
    assert outcome.exception is not None
    assert store.fail_claimed_job(outcome.claim, outcome.exception.to_json(), "host:1")
    return job.reload()
