"""Search by class name and description, with keyset paging, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sample_jobs import Fails, Kept, Noop

import rocketjob as rj
from rocketjob.store import Store


def every_match(q: str, state: str | None = None, limit: int = 2) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = rj.Job.page(state, q=q, limit=limit, cursor=cursor)
        ids.extend(job.id for job in page.jobs)  # type: ignore[misc]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def test_search_matches_part_of_a_class_name_in_any_case(store: Store) -> None:
    kept = Kept.create_many([{}] * 3)
    Noop.create_many([{}] * 2)
    assert every_match("kep") == sorted(kept, reverse=True)
    assert every_match("SAMPLE_JOBS.KEPT") == sorted(kept, reverse=True)
    assert store.class_names() == ["sample_jobs.Kept", "sample_jobs.Noop"]


def test_search_matches_part_of_a_description_in_any_case(store: Store) -> None:
    invoice = Noop.create(description="Send invoice 42 to ACME").id
    Noop.create(description="resize images")
    Noop.create()
    other = Kept.create(description="acme quarterly report").id
    assert every_match("acme") == [other, invoice]
    assert every_match("invoice 42") == [invoice]
    assert every_match("nothing like this") == []


def test_wildcards_in_the_search_text_are_taken_literally(store: Store) -> None:
    literal = Noop.create(description="100% done_now").id
    Noop.create(description="100 percent done")
    Noop.create(description="done now")
    assert every_match("100%") == [literal]
    assert every_match("_now") == [literal]
    assert every_match("\\") == []


def test_search_within_each_list_state(store: Store) -> None:
    now = datetime.now(UTC)
    failed = Fails.create(description="nightly export")
    failed.fail("x")
    queued = Noop.create(description="nightly export").id
    later = [
        Noop.create(description="nightly export", run_at=now + timedelta(minutes=m)).id
        for m in (20, 10, 30)
    ]
    Noop.create(description="morning export", run_at=now + timedelta(minutes=5))
    assert every_match("nightly", "failed") == [failed.id]
    assert every_match("nightly", "queued") == [queued]
    assert every_match("nightly", "scheduled", limit=1) == [later[1], later[0], later[2]]
    assert every_match("fails", "failed") == [failed.id]
    assert every_match("nightly", "running") == []


def test_a_malformed_cursor_is_a_value_error(store: Store) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        rj.Job.page(cursor="abc")
    with pytest.raises(ValueError, match="invalid cursor"):
        rj.Job.page("scheduled", q="x", cursor="yesterday|1")
