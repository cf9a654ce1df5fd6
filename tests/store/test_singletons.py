"""Singleton and unique jobs, held by the database's index, on both backends."""

from __future__ import annotations

import threading

import pytest
from flow_jobs import Charge, Nightly

import rocketjob as rj
from rocketjob.store import Claim, Finished, Store


def holders(store: Store, slot: str) -> list[int]:
    rows = store.fetch_all("list_jobs", {"before_id": 2**62, "limit": 1000})
    return [
        r["id"]
        for r in rows
        if r["singleton_key"] == slot and r["state"] in ("queued", "running", "paused")
    ]


def test_twenty_creators_racing_for_one_key_make_exactly_one_job(store: Store) -> None:
    start = threading.Barrier(20)
    won: list[int] = []
    refused: list[rj.ValidationError] = []

    def create() -> None:
        start.wait()
        try:
            won.append(Charge.create(account=7).id or 0)
        except rj.ValidationError as error:
            refused.append(error)

    threads = [threading.Thread(target=create) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and len(refused) == 19
    assert holders(store, f"{Charge.class_name}:7") == won
    for error in refused:
        assert f"job #{won[0]} (queued) holds the singleton slot" in str(error)
        assert error.errors[0][0] == "singleton_key"
    assert Charge.create(account=8).id != won[0], "another key is another slot"


def test_on_conflict_existing_returns_the_job_holding_the_slot(store: Store) -> None:
    first = Nightly.create(description="first")
    again = Nightly.create(description="second", on_conflict="existing")
    assert (again.id, again.description) == (first.id, "first")
    with pytest.raises(rj.ValidationError, match="on_conflict"):
        Nightly.create(on_conflict="ignore")


@pytest.mark.parametrize("leave", ["complete", "fail", "abort", "destroy"])
def test_the_slot_is_free_once_its_job_leaves_queued_running_and_paused(
    store: Store, leave: str
) -> None:
    held = Nightly.create()
    held.pause()
    with pytest.raises(rj.ValidationError, match=f"job #{held.id} \\(paused\\)"):
        Nightly.create()
    held.resume()
    if leave == "complete":
        claimed = store.claim_job(held.id or 0, "test")
        assert claimed is not None
        store.finish_jobs([Finished(Claim(claimed["id"], claimed["lease"]), keep=True)], "test")
    else:
        getattr(held, leave)()
    assert Nightly.create().id != held.id


def test_a_retried_job_takes_its_slot_again_or_is_refused_naming_the_holder(
    store: Store,
) -> None:
    failed = Charge.create(account=1).fail("down")
    holder = Charge.create(account=1)
    with pytest.raises(rj.InvalidTransition, match=f"job #{holder.id} \\(queued\\) holds"):
        failed.retry()
    assert failed.reload().state is rj.State.FAILED
    holder.abort()
    assert failed.retry().state is rj.State.QUEUED
    with pytest.raises(rj.ValidationError, match=f"job #{failed.id} "):
        Charge.create(account=1)


def test_create_many_names_each_row_whose_slot_is_held(store: Store) -> None:
    held = Charge.create(account=2)
    with pytest.raises(rj.ValidationError) as refused:
        Charge.create_many([{"account": 1}, {"account": 2}, {"account": 3}, {"account": 3}])
    assert refused.value.errors == [
        ("row 3: singleton_key", "row 2 takes slot '" + Charge.class_name + ":3'")
    ]
    with pytest.raises(rj.ValidationError) as refused:
        Charge.create_many([{"account": 1}, {"account": 2}])
    assert refused.value.errors == [
        (
            "row 1: singleton_key",
            f"job #{held.id} (queued) holds the singleton slot '{Charge.class_name}:2'",
        )
    ]
    assert holders(store, f"{Charge.class_name}:1") == [], "nothing was created"
    ids = Charge.create_many([{"account": 1}, {"account": 4}])
    assert [rj.Job.find(i).singleton_slot for i in ids] == [
        f"{Charge.class_name}:1",
        f"{Charge.class_name}:4",
    ]


def test_bulk_retry_skips_failed_jobs_whose_slot_is_held(store: Store) -> None:
    failed = Charge.create(account=5).fail("down")
    other = Charge.create(account=6).fail("down")
    Charge.create(account=5)
    outcome = rj.retry_failed()
    assert (outcome.done, outcome.skipped) == (1, 1)
    assert failed.reload().state is rj.State.FAILED
    assert other.reload().state is rj.State.QUEUED
