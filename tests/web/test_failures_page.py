"""The Failures page, the Failed list filtered to one group, and Retry all / Abort all as
plain forms (confirmed, CSRF-protected, flash after) and as JSON, on both backends."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from failing import failed_by_worker
from sample_jobs import Noop
from starlette.testclient import TestClient
from test_forms import flash
from webpages import csrf_token, post_form, text_of

import rocketjob as rj
from rocketjob.mission_control import create_app
from rocketjob.store import Store

JSON = {"content-type": "application/json"}
GROUP = {"class": "sample_jobs.Fails", "exception": "ValueError"}


def group_list(**extra: str) -> str:
    return "/jobs?" + urlencode({"state": "failed", **GROUP, **extra})


def test_failures_are_grouped_with_counts_a_sample_and_a_link(
    store: Store, client: TestClient
) -> None:
    failed_by_worker("card 1 declined")
    newest = failed_by_worker("card <b>2</b> declined")
    Noop.create().fail("not needed")
    html = client.get("/failures").text
    text = text_of(html)
    assert "Failures" in text
    assert "sample_jobs.Fails ValueError card <b>2</b> declined 2 2 2 2" in text
    assert "sample_jobs.Noop rocketjob.Failed not needed 1 1 1 1" in text
    assert "card <b>2</b>" not in html  # escaped
    assert f'href="{group_list().replace("&", "&amp;")}"' in html
    assert f'href="/jobs/{newest.id}">#{newest.id}</a>' in html
    assert 'aria-label="Retry all failed jobs of sample_jobs.Fails that raised ValueError"' in html
    fragment = client.get("/failures?fragment=1")  # what the page refreshes itself with
    assert fragment.status_code == 200
    assert "sample_jobs.Noop rocketjob.Failed not needed 1 1 1 1" in text_of(fragment.text)


def test_no_failures_says_so(store: Store, client: TestClient) -> None:
    Noop.create()
    assert "No failed jobs. When jobs raise, they are grouped here" in text_of(
        client.get("/failures").text
    )


def test_the_failed_list_of_one_group(store: Store, client: TestClient) -> None:
    ids = [failed_by_worker(f"boom {i}").id for i in range(2)]
    other = Noop.create().fail("x")
    html = client.get(group_list()).text
    shown = [int(n) for n in re.findall(r'data-job-id="(\d+)"', html)]
    assert shown == ids[::-1]
    text = text_of(html)
    assert "Job sample_jobs.Fails" in text
    assert "Exception ValueError Clear · All failures" in text
    assert "2 matching failed jobs, on every page Retry all Abort all" in text
    assert f'data-job-id="{other.id}"' not in html
    fragment = client.get(group_list(fragment="1")).text
    assert "2 matching failed jobs" in text_of(fragment)


def test_a_filter_and_a_search_at_once_is_refused(store: Store, client: TestClient) -> None:
    response = client.get(group_list(q="boom"))
    assert response.status_code == 422
    assert "not both at once" in response.text
    assert client.get("/jobs?state=queued&exception=ValueError").status_code == 422


def test_retry_all_of_a_group_asks_then_retries_and_says_how_many(
    store: Store, client: TestClient
) -> None:
    ids = [failed_by_worker(f"boom {i}").id for i in range(2)]
    other = Noop.create().fail("x")
    fields = {"class_name": "sample_jobs.Fails", "exception_class": "ValueError"}
    status, page = post_form(client, "/failures/retry", confirmed=False, **fields)
    assert status == 200
    assert "Retry all failed jobs of sample_jobs.Fails that raised ValueError?" in text_of(page)
    assert 'name="exception_class" value="ValueError"' in page
    assert rj.Job.counts()["failed"] == 3

    status, location = post_form(client, "/failures/retry", **fields)
    assert (status, location) == (303, "/failures")
    assert flash(client, location) == (
        "Retried 2 failed jobs of sample_jobs.Fails that raised ValueError."
    )
    assert [rj.Job.find(i).state for i in ids] == [rj.State.QUEUED] * 2
    assert other.reload().state is rj.State.FAILED
    assert rj.Job.find(ids[0]).history()[-1].by.startswith("user:")


def test_abort_all_on_a_searched_failed_list_returns_to_it(
    store: Store, client: TestClient
) -> None:
    card = failed_by_worker("declined", description="charge card")
    mail = failed_by_worker("bounced", description="welcome mail")
    status, location = post_form(client, "/failures/abort", q="card", back="list")
    assert (status, location) == (303, "/jobs?state=failed&q=card")
    assert flash(client, location) == "Aborted 1 failed job matching “card”."
    assert (card.reload().state, mail.reload().state) == (rj.State.ABORTED, rj.State.FAILED)
    _, location = post_form(client, "/failures/abort", q="card", back="list")
    assert flash(client, location) == "No failed jobs matching “card”: nothing to abort."


def test_bulk_forms_need_the_pages_token(store: Store, client: TestClient) -> None:
    failed_by_worker("boom")
    csrf_token(client)
    response = client.post("/failures/retry", data={"confirmed": "yes", "csrf_token": "forged"})
    assert response.status_code == 403
    assert rj.Job.counts()["failed"] == 1
    assert client.get("/failures/retry").status_code in (404, 405)


@pytest.fixture
def signed_in(store: Store) -> Iterator[TestClient]:
    app = create_app(users={"alice": "secret"})
    with TestClient(app, follow_redirects=False) as test_client:
        token = base64.b64encode(b"alice:secret").decode()
        test_client.headers.update({"authorization": f"Basic {token}"})
        yield test_client


def test_the_signed_in_operator_is_recorded(store: Store, signed_in: TestClient) -> None:
    job = failed_by_worker("boom")
    post_form(signed_in, "/failures/abort", class_name="sample_jobs.Fails")
    assert job.reload().history()[-1].by == "user:alice"


def test_api_groups_and_bulk_actions(store: Store, client: TestClient) -> None:
    failed_by_worker("boom")
    failed_by_worker("boom again")
    Noop.create().fail("x")
    groups = client.get("/api/failures").json()
    assert [(g["class_name"], g["exception_class"], g["total"]) for g in groups] == [
        ("sample_jobs.Fails", "ValueError", 2),
        ("sample_jobs.Noop", "rocketjob.Failed", 1),
    ]
    assert groups[0]["latest_message"] == "boom again"
    body = {"class_name": "sample_jobs.Fails", "exception_class": "ValueError"}
    response = client.post("/api/failures/retry", json=body)
    assert (response.status_code, response.json()) == (
        200,
        {"action": "retry", "done": 2, "skipped": 0},
    )
    assert rj.Job.page("queued").jobs[0].history()[-1].by == "api"
    everything = client.post("/api/failures/abort", headers=JSON)
    assert everything.json() == {"action": "abort", "done": 1, "skipped": 0}
    assert client.get("/api/failures").json() == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/failures/retry", {"class": "x"}, 422),  # unknown field: never "all jobs"
        ("/api/failures/retry", {"q": "a", "class_name": "x"}, 422),
        ("/api/failures/retry", {"q": "a\x00"}, 422),
        ("/api/failures/destroy", {}, 422),
        ("/api/failures/retry", [], 422),
    ],
)
def test_api_bulk_errors_are_never_a_500(
    store: Store, client: TestClient, path: str, body: object, status: int
) -> None:
    failed_by_worker("boom")
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    assert "detail" in response.json()
    assert rj.Job.counts()["failed"] == 1


def test_api_bulk_writes_need_json(store: Store, client: TestClient) -> None:
    failed_by_worker("boom")
    response = client.post("/api/failures/retry", data={"q": "boom"})
    assert response.status_code == 415
    assert rj.Job.counts()["failed"] == 1


def test_matches_are_counted_up_to_a_cap(
    store: Store, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rocketjob.mission_control import failures

    monkeypatch.setattr(failures, "COUNT_CAP", 2)
    monkeypatch.setattr(failures, "SEARCH_COUNT_CAP", 1)
    for i in range(3):
        failed_by_worker(f"boom {i}", description="nightly import")
    assert "2+ matching failed jobs" in text_of(client.get(group_list()).text)
    searched = text_of(client.get("/jobs?state=failed&q=nightly").text)
    assert "1+ matching failed jobs" in searched
    assert "3 failed jobs, on every page" in text_of(client.get("/jobs?state=failed").text)
