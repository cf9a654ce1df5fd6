"""Dependencies on a real worker process, on both backends: a chain runs in order, and a
failed prerequisite holds its dependant while the worker drains everything else."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flow_jobs import Step
from processes import Background, finish, start_rocketjob, wait_until

import rocketjob as rj
from rocketjob.store import Store


@contextmanager
def worker(database_url: str) -> Iterator[Background]:
    process = start_rocketjob(
        "worker", "--import", "flow_jobs", "--threads", "4", "--poll-interval", "0.05",
        database_url=database_url,
    )  # fmt: skip
    try:
        yield process
        process.send_signal(signal.SIGTERM)
        finish(process)
    finally:
        process.close()


def completed(*jobs: rj.Job) -> bool:
    return all(job.reload().state is rj.State.COMPLETED for job in jobs)


def test_a_chain_runs_in_order_on_a_worker(store: Store, database_url: str, tmp_path: Path) -> None:
    path = str(tmp_path / "steps")
    # Created last first in priority: without the dependencies the worker runs c first.
    a = Step.create(path=path, name="a", priority=90)
    b = Step.create(path=path, name="b", priority=50, depends_on=[a])
    c = Step.create(path=path, name="c", priority=10, depends_on=[b])
    with worker(database_url):
        wait_until(lambda: completed(a, b, c), 30, "the chain completed")
    assert Path(path).read_text().split() == ["a", "b", "c"]
    assert a.completed_at and b.started_at and b.completed_at and c.started_at
    assert a.completed_at <= b.started_at and b.completed_at <= c.started_at


def test_a_failed_prerequisite_holds_its_dependant_until_it_is_retried(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    path = str(tmp_path / "steps")
    told_to_fail = Path(f"{path}.fail-a")
    told_to_fail.touch()
    a = Step.create(path=path, name="a")
    b = Step.create(path=path, name="b", depends_on=[a])
    others_ids = Step.create_many([{"path": path, "name": f"x{i}"} for i in range(20)])
    with worker(database_url):
        wait_until(lambda: a.reload().state is rj.State.FAILED, 30, "a failed")
        wait_until(
            lambda: all(rj.Job.find(i).state is rj.State.COMPLETED for i in others_ids),
            30,
            "the worker drained the other jobs",
        )
        # Jobs created after b ran: had b been claimable, it would have run before them.
        assert b.reload().state is rj.State.QUEUED and b.started_at is None
        assert [n.in_words() for n in b.dependencies().holding] == [f"#{a.id} (failed)"]
        told_to_fail.unlink()
        a.retry()
        wait_until(lambda: completed(a, b), 30, "a, then b, completed")
    assert Path(path).read_text().split()[-2:] == ["a", "b"]
