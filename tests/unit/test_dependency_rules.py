"""The pure rules of dependencies: which ids a job may wait on, and which are done."""

from __future__ import annotations

import pytest

import rocketjob as rj
from rocketjob.behaviours.dependencies import edges, given


def test_prerequisites_are_ids_each_once() -> None:
    assert given(None) == [] and given([3, 1, 3]) == [3, 1]
    for bad in ("12", [True], [0], [1.5]):
        with pytest.raises(rj.ValidationError, match="depends_on"):
            given(bad)


def test_done_are_the_completed_and_the_gone() -> None:
    states = {1: "completed", 2: "failed", 4: "running"}
    assert edges(10, [1, 2, 3, 4], states, last_id=10) == [
        (1, True), (2, False), (3, True), (4, False)
    ]  # fmt: skip


def test_ids_never_handed_out_and_later_jobs_are_refused() -> None:
    with pytest.raises(rj.ValidationError) as refused:
        edges(10, [11, 10, 12], {11: "queued"}, last_id=11)
    assert [problem for _, problem in refused.value.errors] == [
        "job #10 cannot wait on #11: a job waits only on jobs created before it "
        "(anything else could close a cycle)",
        "job #10 cannot wait on #10: a job waits only on jobs created before it "
        "(anything else could close a cycle)",
        "no job #12",
    ]
