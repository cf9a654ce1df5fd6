"""The jobs pages: lists per state with counts, search, paging and empty states."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sample_jobs import Fails, Kept, Noop, Slow
from starlette.testclient import TestClient
from webpages import sidebar_counts, text_of

import rocketjob as rj
from rocketjob.store import Store


def rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr class="state-\w+" data-job-id="(\d+)"', html)]


def test_the_all_list_shows_every_job_newest_first_with_counts(
    store: Store, client: TestClient
) -> None:
    now = datetime.now(UTC)
    queued = Noop.create(description="send the newsletter").id
    scheduled = Noop.create(run_at=now + timedelta(hours=2)).id
    failed = Fails.create()
    failed.fail("broken")
    response = client.get("/jobs")
    assert response.status_code == 200
    assert rows(response.text) == [failed.id, scheduled, queued]
    text = text_of(response.text)
    assert sidebar_counts(response.text) == {
        "all": "3",
        "running": "0",
        "scheduled": "1",
        "queued": "1",
        "paused": "0",
        "failed": "1",
        "aborted": "0",
        "completed": "0",
    }
    assert "send the newsletter" in text
    assert f'href="/jobs/{queued}"' in response.text
    assert "runs in 1 h 59 min" in text
    assert "waiting " in text


def test_home_redirects_to_the_jobs(client: TestClient) -> None:
    response = client.get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/jobs")


@pytest.mark.parametrize(
    ("state", "expected"),
    [("failed", "ran "), ("paused", "never ran"), ("aborted", "never ran")],
)
def test_each_state_lists_only_its_jobs(
    store: Store, client: TestClient, state: str, expected: str
) -> None:
    Noop.create_many([{}] * 3)
    job = Kept.create(description=f"the {state} one")
    if state == "failed":
        store.claim_jobs("w:1", 10)
        rj.Job.find(job.id).fail("x")  # type: ignore[arg-type]
    elif state == "paused":
        job.pause()
    else:
        job.abort()
    html = client.get(f"/jobs?state={state}").text
    assert rows(html) == [job.id]
    assert f"the {state} one" in text_of(html)
    assert expected in text_of(html)
    current = f'href="/jobs?state={state}" class="state-link state-{state}" aria-current="page"'
    assert current in html


def test_running_jobs_show_how_long_they_run_and_a_progress_bar(
    store: Store, client: TestClient
) -> None:
    job = Slow.create(description="resize")
    (row,) = store.claim_jobs("w:1", 1)
    store.record_progress(rj.execution.load_claimed(row)[1], 40)
    html = client.get("/jobs?state=running").text
    assert "running " in text_of(html)
    assert f'<progress max="100" value="40" aria-label="Job #{job.id}: 40% complete">' in html


def test_completed_jobs_show_the_time_they_took(store: Store, client: TestClient) -> None:
    Kept.create().perform_now()
    text = text_of(client.get("/jobs?state=completed").text)
    assert "took " in text
    assert sidebar_counts(client.get("/jobs").text)["completed"] == "1"


@pytest.mark.parametrize(
    ("state", "empty_text"),
    [
        (None, "No jobs yet."),
        ("running", "No job is running."),
        ("scheduled", "Nothing scheduled."),
        ("failed", "No failed jobs. Jobs that raised an exception appear here."),
        ("completed", "No completed jobs kept."),
    ],
)
def test_empty_lists_say_what_would_appear_there(
    client: TestClient, state: str | None, empty_text: str
) -> None:
    html = client.get("/jobs" + (f"?state={state}" if state else "")).text
    assert empty_text in text_of(html)
    assert "<table" not in html


def test_search_by_class_and_description_keeps_the_state(store: Store, client: TestClient) -> None:
    invoice = Noop.create(description="invoice ACME").id
    kept = Kept.create(description="report").id
    Noop.create(description="other")
    rj.Job.find(kept).pause()
    assert rows(client.get("/jobs?q=acme").text) == [invoice]
    assert rows(client.get("/jobs?q=Kept").text) == [kept]
    assert rows(client.get("/jobs?q=Kept&state=queued").text) == []
    html = client.get("/jobs?q=nothing-like-it&state=failed").text
    assert "No failed jobs match “nothing-like-it”." in text_of(html)
    assert 'value="nothing-like-it"' in html


def test_pages_of_fifty_with_a_link_to_older_jobs(store: Store, client: TestClient) -> None:
    ids = Noop.create_many([{}] * 60)
    first = client.get("/jobs").text
    assert rows(first) == sorted(ids, reverse=True)[:50]
    older = f'href="/jobs?cursor={ids[10]}" rel="next"'
    assert older in first
    second = client.get(f"/jobs?cursor={ids[10]}").text
    assert rows(second) == sorted(ids, reverse=True)[50:]
    assert 'rel="next"' not in second
    assert "« Newest" in text_of(second)


def test_user_text_is_escaped(store: Store, client: TestClient) -> None:
    Noop.create(description='<script>alert("x")</script><b>bold</b>')
    html = client.get("/jobs").text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert '<script>alert("x")</script><b>bold</b>' in text_of(html)
    searched = client.get("/jobs", params={"q": '"><script>x</script>'}).text
    assert "<script>x</script>" not in searched


@pytest.mark.parametrize(
    "query",
    ["state=finished", "cursor=abc", "state=scheduled&cursor=yesterday%7C1", "q=" + "x" * 201],
)
def test_malformed_list_parameters_are_a_readable_422_page(client: TestClient, query: str) -> None:
    response = client.get(f"/jobs?{query}")
    assert response.status_code == 422
    assert "Invalid request" in response.text
    assert "Traceback" not in response.text


def test_the_live_fragment_holds_only_the_parts_that_refresh(
    store: Store, client: TestClient
) -> None:
    Noop.create(description="fresh")
    response = client.get("/jobs?fragment=1")
    assert response.status_code == 200
    assert 'id="states"' in response.text and 'id="job-list"' in response.text
    assert "fresh" in response.text
    assert "<html" not in response.text and "<header" not in response.text
    page = client.get("/jobs?state=failed").text
    assert 'data-live-url="/jobs?state=failed&amp;fragment=1"' in page


def test_a_search_says_how_many_jobs_of_the_list_match_up_to_a_cap(
    store: Store, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rocketjob.mission_control import failures

    Noop.create_many([{"description": "nightly import"}] * 3)
    Noop.create(description="nightly import").pause()
    Noop.create(description="other")
    assert "4 jobs match “nightly”" in text_of(client.get("/jobs?q=nightly").text)
    paused = client.get("/jobs?state=paused&q=nightly").text
    assert "1 paused job matches “nightly”" in text_of(paused)
    assert 'class="states searching"' in paused  # the sidebar's totals are of whole lists
    monkeypatch.setattr(failures, "SEARCH_COUNT_CAP", 2)
    assert "2+ queued jobs match “nightly”" in text_of(
        client.get("/jobs?state=queued&q=nightly&fragment=1").text
    )
    assert "match-count" not in client.get("/jobs").text
