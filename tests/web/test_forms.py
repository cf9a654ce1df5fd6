"""Every action as a plain form POST: CSRF-protected, confirmed, then a flash message."""

from __future__ import annotations

import pytest
from sample_jobs import Fails, Kept, Noop
from starlette.testclient import TestClient
from webpages import csrf_token, post_form, text_of

import rocketjob as rj
from rocketjob.store import Store


def flash(client: TestClient, location: str) -> str:
    html = client.get(location).text
    start = html.index('<div id="flash"')
    return text_of(html[start : html.index("</div>", start)])


def test_retry_a_failed_job_asks_first_then_says_what_happened(
    store: Store, client: TestClient
) -> None:
    job = Fails.create()
    job.fail("broken")
    status, page = post_form(client, f"/jobs/{job.id}/retry", confirmed=False)
    assert status == 200
    assert f"Retry job #{job.id} (sample_jobs.Fails)?" in text_of(page)
    assert 'name="confirmed" value="yes"' in page
    assert job.reload().state is rj.State.FAILED

    status, location = post_form(client, f"/jobs/{job.id}/retry")
    assert (status, location) == (303, f"/jobs/{job.id}")
    assert flash(client, location) == f"Retried job #{job.id} (Fails): it is queued."
    assert flash(client, location) == ""  # shown once
    assert job.reload().state is rj.State.QUEUED
    entry = job.history()[-1]
    assert (entry.action, entry.by.startswith("user:")) == ("retry", True)


@pytest.mark.parametrize(
    ("action", "state"),
    [("pause", "paused"), ("abort", "aborted"), ("fail", "failed")],
)
def test_actions_on_a_queued_job(store: Store, client: TestClient, action: str, state: str) -> None:
    job = Noop.create()
    status, location = post_form(client, f"/jobs/{job.id}/{action}")
    assert status == 303
    assert f"job #{job.id} (Noop): it is {state}." in flash(client, location)
    assert job.reload().state == state


def test_resume_and_run_now(store: Store, client: TestClient) -> None:
    from datetime import UTC, datetime, timedelta

    paused = Noop.create().pause()
    later = Noop.create(run_at=datetime.now(UTC) + timedelta(hours=1))
    post_form(client, f"/jobs/{paused.id}/resume")
    _, location = post_form(client, f"/jobs/{later.id}/run_now")
    assert paused.reload().state is rj.State.QUEUED
    assert later.reload().run_at is None
    assert flash(client, location) == f"Started early job #{later.id} (Noop): it is queued."


def test_fail_keeps_the_reason_given(store: Store, client: TestClient) -> None:
    job = Noop.create()
    post_form(client, f"/jobs/{job.id}/fail", reason="customer asked to stop")
    failed = job.reload()
    assert failed.exception is not None
    assert failed.exception.message == "customer asked to stop"


def test_a_refused_action_is_an_error_flash_and_changes_nothing(
    store: Store, client: TestClient
) -> None:
    job = Kept.create()
    job.perform_now()
    status, location = post_form(client, f"/jobs/{job.id}/retry")
    assert (status, location) == (303, f"/jobs/{job.id}")
    html = client.get(location).text
    assert '<p class="flash flash-error" role="alert">Cannot retry a completed job.</p>' in html
    assert job.reload().state is rj.State.COMPLETED


def test_destroy_goes_back_to_the_list(store: Store, client: TestClient) -> None:
    job = Noop.create()
    status, location = post_form(client, f"/jobs/{job.id}/destroy")
    assert (status, location) == (303, "/jobs")
    assert flash(client, location) == f"Destroyed job #{job.id} (Noop)."
    with pytest.raises(rj.JobNotFound):
        job.reload()


def test_a_form_without_its_csrf_token_is_refused(store: Store, client: TestClient) -> None:
    job = Noop.create()
    csrf_token(client)  # the browser holds the cookie, the forger does not know the field
    for data in ({"confirmed": "yes"}, {"confirmed": "yes", "csrf_token": "made.up"}):
        response = client.post(f"/jobs/{job.id}/abort", data=data)
        assert response.status_code == 403
        assert "this form has expired or did not come from Mission Control" in response.text
    assert job.reload().state is rj.State.QUEUED


def test_a_form_from_another_site_is_refused(store: Store, client: TestClient) -> None:
    job = Noop.create()
    data = {"csrf_token": csrf_token(client), "confirmed": "yes"}
    response = client.post(
        f"/jobs/{job.id}/abort", data=data, headers={"origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert job.reload().state is rj.State.QUEUED


def test_a_form_through_a_proxy_that_names_the_public_host_is_accepted(
    store: Store, client: TestClient
) -> None:
    job = Noop.create()
    data = {"csrf_token": csrf_token(client), "confirmed": "yes"}
    headers = {"origin": "https://ops.example.com", "x-forwarded-host": "ops.example.com"}
    assert client.post(f"/jobs/{job.id}/abort", data=data, headers=headers).status_code == 303
    assert job.reload().state is rj.State.ABORTED


def test_actions_on_unknown_jobs_and_unknown_actions_are_404(
    store: Store, client: TestClient
) -> None:
    job = Noop.create()
    assert post_form(client, "/jobs/999999/retry")[0] == 404
    assert post_form(client, f"/jobs/{job.id}/explode")[0] == 404


def test_pause_resume_and_stop_every_worker_or_one(store: Store, client: TestClient) -> None:
    store.register_worker("a:1", "a", 1, 4)
    store.register_worker("b:2", "b", 2, 4)
    status, page = post_form(client, "/workers/pause", confirmed=False)
    assert (status, "Pause every worker?" in text_of(page)) == (200, True)
    assert {w.desired_state for w in rj.list_workers()} == {None}

    status, location = post_form(client, "/workers/pause")
    assert (status, location) == (303, "/workers")
    assert flash(client, location) == "Asked every worker to pause (2 workers)."
    assert {w.desired_state for w in rj.list_workers()} == {"paused"}

    post_form(client, "/workers/resume")
    _, location = post_form(client, "/workers/a:1/stop")
    assert flash(client, location) == "Asked worker a:1 to stop."
    assert {w.name: w.desired_state for w in rj.list_workers()} == {
        "a:1": "stopping",
        "b:2": "running",
    }
    assert post_form(client, "/workers/c:3/stop")[0] == 404
    assert post_form(client, "/workers/a:1/explode")[0] == 404


def test_asking_workers_when_none_runs_says_so(client: TestClient) -> None:
    _, location = post_form(client, "/workers/stop")
    assert flash(client, location) == "No worker is running: there is nothing to stop."
