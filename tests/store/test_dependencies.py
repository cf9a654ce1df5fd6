"""Dependencies between jobs on both backends: a job waits, out of the claim, until every
job it depends on has completed (or is gone)."""

from __future__ import annotations

import threading

import psycopg
import pytest
from flow_jobs import Gone, Nightly
from sample_jobs import Kept
from throttled_jobs import Charge

import rocketjob as rj
from rocketjob.store import Claim, Finished, Store


def complete(store: Store, *jobs: rj.Job) -> None:
    for job in jobs:
        row = store.claim_job(job.id or 0, "test")
        assert row is not None, f"job {job.id} could not be claimed"
        keep = not job.destroy_on_complete
        assert store.finish_jobs([Finished(Claim(row["id"], row["lease"]), keep)], "test") == 1


def claimable(store: Store) -> list[int]:
    rows = store.claim_jobs("test", 100)
    store.hand_back_jobs([Claim(r["id"], r["lease"]) for r in rows], "test", "looked")
    return sorted(r["id"] for r in rows)


def test_a_job_waits_out_of_the_claim_until_every_prerequisite_completed(store: Store) -> None:
    a, b = Kept.create(), Gone.create()
    c = Kept.create(depends_on=[a.id, b])
    assert c.waiting_on == 2 and c.state is rj.State.QUEUED
    assert claimable(store) == [a.id, b.id]
    complete(store, a)
    assert c.reload().waiting_on == 1 and claimable(store) == [b.id]
    complete(store, b)  # destroyed on completion: done all the same
    assert c.reload().waiting_on == 0 and claimable(store) == [c.id]
    deps = c.dependencies()
    assert [n.in_words() for n in deps.waits_on] == [f"#{a.id} (completed)", f"#{b.id} (destroyed)"]
    assert deps.holding == [] and deps.waited_on_by == []
    assert [(n.id, n.state) for n in a.dependencies().waited_on_by] == [(c.id, rj.State.QUEUED)]


def test_completed_and_destroyed_prerequisites_hold_nothing(store: Store) -> None:
    done, gone = Kept.create(), Gone.create()
    complete(store, done, gone)
    job = Kept.create(depends_on=[done.id, gone.id])
    assert job.waiting_on == 0 and claimable(store) == [job.id]


def test_a_missing_id_and_a_cycle_are_refused_naming_them(store: Store) -> None:
    a = Kept.create()
    with pytest.raises(rj.ValidationError, match="depends_on: no job #999999"):
        Kept.create(depends_on=[a.id, 999999])
    with pytest.raises(rj.ValidationError, match="depends_on: 'x' is not a job id"):
        Kept.create(depends_on=["x"])
    next_id = (a.id or 0) + 2  # the refused create used one id on PostgreSQL
    if store.backend == "sqlite":
        next_id -= 1
    with pytest.raises(rj.ValidationError, match=f"job #{next_id} cannot wait on #{next_id}"):
        Kept.create(depends_on=[next_id])
    assert [j.id for j in rj.Job.page().jobs] == [a.id], "nothing refused was created"


def test_a_failed_prerequisite_holds_its_dependant_until_retried_and_completed(
    store: Store,
) -> None:
    a = Kept.create()
    b = Kept.create(depends_on=[a.id])
    a.fail("down")
    assert claimable(store) == []
    assert [n.in_words() for n in b.dependencies().holding] == [f"#{a.id} (failed)"]
    with pytest.raises(rj.InvalidTransition, match=f"job #{b.id}: it waits on #{a.id} \\(failed"):
        b.perform_now()
    a.retry()
    complete(store, a)
    assert claimable(store) == [b.id]


def test_destroying_an_unfinished_prerequisite_lets_its_dependants_run(store: Store) -> None:
    a = Kept.create()
    b = Kept.create(depends_on=[a.id])
    a.abort()
    assert claimable(store) == []
    a.destroy()
    assert b.reload().waiting_on == 0 and claimable(store) == [b.id]
    assert [n.in_words() for n in b.dependencies().waits_on] == [f"#{a.id} (destroyed)"]


def test_a_destroyed_dependant_leaves_no_edges(store: Store) -> None:
    a = Kept.create()
    b = Kept.create(depends_on=[a.id])
    b.destroy()
    assert a.dependencies().waited_on_by == []
    assert store.fetch_all("prerequisites_of", {"id": b.id}) == []


def test_create_many_rows_wait_on_their_own_prerequisites(store: Store) -> None:
    a = Kept.create()
    ids = Kept.create_many([{"depends_on": [a.id]}, {}, {"description": "x"}])
    assert [rj.Job.find(i).waiting_on for i in ids] == [1, 0, 0]
    with pytest.raises(rj.ValidationError, match="row 1: depends_on: no job #77777"):
        Kept.create_many([{}, {"depends_on": [77777]}])
    singles = Nightly.create_many([{"depends_on": [a.id]}])
    assert rj.Job.find(singles[0]).waiting_on == 1


@pytest.mark.postgres
def test_a_dependant_created_while_its_prerequisite_completes_is_released(
    store: Store, database_url: str
) -> None:
    if store.backend != "postgres":
        pytest.skip("SQLite writes one transaction at a time")
    a = Kept.create()
    row = store.claim_job(a.id or 0, "test")
    assert row is not None
    with psycopg.connect(database_url) as conn:
        b = Kept.create(depends_on=[a.id], connection=conn)  # holds a's row until commit
        finishing = threading.Thread(
            target=store.finish_jobs, args=([Finished(Claim(row["id"], row["lease"]), True)], "t")
        )
        finishing.start()
        finishing.join(0.5)
        assert finishing.is_alive(), "the completion waits for the dependant's transaction"
        conn.commit()
    finishing.join(10)
    assert b.reload().waiting_on == 0 and claimable(store) == [b.id]


def test_a_throttled_job_waits_on_its_prerequisites_too(store: Store) -> None:
    a = Kept.create()
    waiting = Charge.create(depends_on=[a])
    assert store.claim_throttled_jobs("w", Charge.class_name, 3, 10) == []
    complete(store, a)
    taken = store.claim_throttled_jobs("w", Charge.class_name, 3, 10)
    assert [row["id"] for row in taken] == [waiting.id]
