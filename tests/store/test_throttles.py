"""Throttles in the store: the ordinary claim never takes a throttled job, and a
throttle's claim never takes past its limit, on both backends."""

from __future__ import annotations

import pytest
from throttled_jobs import Charge, Payout, Ping, Refund

import rocketjob as rj
from rocketjob.store import Claim, Finished, Store


def ids(rows: list[dict[str, object]]) -> list[int]:
    return [int(row["id"]) for row in rows]  # type: ignore[call-overload]


def test_the_ordinary_claim_leaves_throttled_jobs_alone(store: Store) -> None:
    charges = Charge.create_many([{}] * 3)
    ping = Ping.create()
    assert ids(store.claim_jobs("w", 10)) == [ping.id]
    assert ids(store.claim_jobs("w", 10)) == []
    assert rj.Job.counts()["queued"] == 3
    assert ids(store.claim_throttled_jobs("w", Charge.class_name, 3, 10)) == charges


def test_a_throttle_takes_no_more_than_its_limit_leaves(store: Store) -> None:
    charges = [Charge.create().id for _ in range(5)]
    first = store.claim_throttled_jobs("w1", Charge.class_name, 3, 2)
    assert ids(first) == charges[:2]
    second = store.claim_throttled_jobs("w2", Charge.class_name, 3, 10)
    assert ids(second) == charges[2:3]  # 2 running: room for one
    assert store.claim_throttled_jobs("w2", Charge.class_name, 3, 10) == []
    done = first[0]
    store.finish_jobs([Finished(Claim(int(done["id"]), int(done["lease"])), keep=True)], "w1")
    assert ids(store.claim_throttled_jobs("w2", Charge.class_name, 3, 10)) == charges[3:4]


def test_classes_of_a_group_share_its_limit(store: Store) -> None:
    refunds = Refund.create_many([{}] * 2)
    payouts = Payout.create_many([{}] * 2)
    assert ids(store.claim_throttled_jobs("w", "payments", 2, 1)) == refunds[:1]
    assert ids(store.claim_throttled_jobs("w", "payments", 2, 5)) == refunds[1:]
    assert store.claim_throttled_jobs("w", "payments", 2, 5) == []
    assert len(payouts) == 2 and rj.Job.counts()["queued"] == 2


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"throttle_running_jobs": 0}, "throttle_running_jobs"),
        ({"throttle_running_jobs": -2}, "throttle_running_jobs"),
        ({"throttle_running_jobs": 1.5}, "throttle_running_jobs"),
        ({"throttle_group": "payments"}, "throttle_group"),
        ({"throttle_running_jobs": 2, "throttle_group": " "}, "throttle_group"),
    ],
)
def test_a_throttle_that_cannot_work_is_refused_naming_the_setting(
    settings: dict[str, object], field: str
) -> None:
    with pytest.raises(rj.ValidationError) as refused:
        type("Bad", (rj.Job,), {"perform": lambda self: None, **settings})
    assert [f for f, _ in refused.value.errors] == [field]
