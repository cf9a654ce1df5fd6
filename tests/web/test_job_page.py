"""A job's page: every field, its exception, its history, and the buttons its state allows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sample_jobs import Fails, Kept, Noop, Slow, Typed
from starlette.testclient import TestClient
from webpages import text_of

import rocketjob as rj
from rocketjob.execution import load_claimed, perform_claimed
from rocketjob.store import NewJob, Store


def buttons(html: str) -> list[str]:
    return re.findall(
        r'<button type="submit" class="btn btn-\w+" aria-label="[^"]*">([^<]+)<', html
    )


def test_every_standard_and_own_field_is_shown_readably(store: Store, client: TestClient) -> None:
    job = Typed.create(
        name="Ada",
        count=3,
        when=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        day=date(2030, 1, 2),
        amount=Decimal("12.50"),
        tags=["a", "b"],
        extra={"x": 1},
        priority=7,
        description="typed things",
    )
    html = client.get(f"/jobs/{job.id}").text
    text = text_of(html)
    assert f"sample_jobs.Typed #{job.id}" in text
    assert "typed things" in text
    for shown in ("Priority 7", "Failures 0", "Worker —", "Progress 0%", "name Ada", "count 3"):
        assert shown in text
    assert "when 2030-01-02T03:04:05Z" in text
    assert "day 2030-01-02" in text
    assert "amount 12.50" in text
    assert "<pre>[\n  &#34;a&#34;,\n  &#34;b&#34;\n]</pre>" in html
    assert "<pre>{\n  &#34;x&#34;: 1\n}</pre>" in html
    created = job.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")  # type: ignore[union-attr]
    assert f'title="{created}"' in html
    assert "This job has no fields of its own." not in text


def test_a_failed_job_shows_its_exception_with_a_collapsed_backtrace(
    store: Store, client: TestClient
) -> None:
    job = Fails.create(message="no <such> customer")
    row = store.claim_jobs("host:7", 1)[0]
    claimed, claim = load_claimed(row)
    outcome = perform_claimed(claimed, claim, "host:7")
    assert outcome.exception is not None
    store.fail_claimed_job(claim, outcome.exception.to_json(), "host:7")
    html = client.get(f"/jobs/{job.id}").text
    text = text_of(html)
    assert "ValueError: no <such> customer" in text
    assert "on worker host:7" in text
    assert '<details id="backtrace" class="backtrace">' in html  # closed until clicked
    assert "Traceback (most recent call last):" in html
    assert "sample_jobs.py" in html
    assert buttons(html) == ["Retry", "Abort", "Destroy"]
    history = text.split("History")[1]
    assert "fail running → failed host:7 ValueError: no <such> customer" in history
    assert "start queued → running host:7" in history


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        ("queued", ["Pause", "Fail", "Abort", "Destroy"]),
        ("scheduled", ["Pause", "Run now", "Fail", "Abort", "Destroy"]),
        ("running", ["Fail", "Abort"]),
        ("running pausable", ["Pause", "Fail", "Abort"]),
        ("paused", ["Resume", "Fail", "Abort", "Destroy"]),
        ("aborted", ["Destroy"]),
        ("completed", ["Destroy"]),
    ],
)
def test_exactly_the_buttons_the_state_allows(
    store: Store, client: TestClient, make: str, expected: list[str]
) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    job: rj.Job = {
        "queued": lambda: Noop.create(),
        "scheduled": lambda: Noop.create(run_at=later),
        "running": lambda: Noop.create(),
        "running pausable": lambda: Slow.create(),
        "paused": lambda: Noop.create().pause(),
        "aborted": lambda: Noop.create().abort(),
        "completed": lambda: Kept.create(),
    }[make]()
    if make.startswith("running"):
        store.claim_jobs("w:1", 1)
    if make == "completed":
        job.perform_now()
    html = client.get(f"/jobs/{job.id}").text
    assert buttons(html) == expected
    assert html.count("data-confirm=") == len(expected)


def test_a_job_of_an_unknown_class_is_still_shown(store: Store, client: TestClient) -> None:
    row = store.insert_job(
        NewJob("billing.Invoice", "old", 10, None, None, True, '{"customer": {"id": 42}}')
    )
    html = client.get(f"/jobs/{row['id']}").text
    text = text_of(html)
    assert "billing.Invoice is not known here" in text
    assert "<pre>{\n  &#34;id&#34;: 42\n}</pre>" in html
    assert "billing.Invoice" in text_of(client.get("/jobs").text)


def test_an_unknown_job_is_a_404_page(client: TestClient) -> None:
    response = client.get("/jobs/424242")
    assert response.status_code == 404
    assert "no job with id 424242" in text_of(response.text)
    assert client.get("/jobs/not-a-number").status_code == 422


def test_the_job_fragment_holds_only_its_live_parts(store: Store, client: TestClient) -> None:
    job = Noop.create()
    html = client.get(f"/jobs/{job.id}?fragment=1").text
    for region in ("job-head", "job-details", "job-exception", "job-history"):
        assert f'id="{region}"' in html
    assert "<header" not in html
