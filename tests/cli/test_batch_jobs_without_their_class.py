"""Operators act on batch jobs from processes that never imported their class (the CLI,
Mission Control or the API without --import): the database says it is a batch job."""

from __future__ import annotations

from pathlib import Path

from batch_jobs import Hooks, Squares
from batching import process, start
from processes import rocketjob

import rocketjob as rj
from rocketjob.store import Store


def failed_squares(store: Store, broken: Path) -> Squares:
    broken.touch()
    job = Squares.create(broken=str(broken), fail_every=97)
    job.upload(range(1, 1_001))
    start(store)
    process(store)
    assert job.reload().state is rj.State.FAILED
    return job


def test_abort_without_the_class_drops_the_slices_and_their_output(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = failed_squares(store, tmp_path / "broken")
    assert store.slice_counts(job.id)  # type: ignore[arg-type]
    aborted = rocketjob("jobs", "abort", str(job.id), database_url=database_url)
    assert aborted.returncode == 0, aborted.stderr
    assert job.reload().state is rj.State.ABORTED
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]


def test_retry_without_the_class_requeues_only_the_failed_slices(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    job = failed_squares(store, broken)
    failed = {s.position for s in job.failed_slices()}
    broken.unlink()  # the fix
    retried = rocketjob("jobs", "retry", str(job.id), database_url=database_url)
    assert retried.returncode == 0, retried.stderr
    back = job.reload()
    assert (back.state, back.sub_state) == (rj.State.RUNNING, rj.SubState.PROCESSING)
    outcomes = process(store)
    assert {int(o.step.split()[1]) for o in outcomes if o.step.startswith("slice")} == failed
    assert job.reload().state is rj.State.COMPLETED
    assert [r["n"] for r in job.output()] == list(range(1, 1_001))


def test_a_batch_job_still_in_the_queue_is_known_for_one(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "hooks.log"
    job = Hooks.create(log=str(log))
    job.upload([f"line {i}" for i in range(30)])
    aborted = rocketjob("jobs", "abort", str(job.id), database_url=database_url)
    assert aborted.returncode == 0, aborted.stderr
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    assert not log.exists()
