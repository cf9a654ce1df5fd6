"""Very long job class, exception class and worker names: the links and forms of the
Failures and Workers pages work for them, as does the API, for any name the database
holds."""

from __future__ import annotations

import re
from html import unescape

from long_names import failed_with_long_names
from starlette.testclient import TestClient
from webpages import post_form, text_of

import rocketjob as rj
from rocketjob.store import Store

LENGTH = 5_000


def test_the_failures_link_of_a_long_named_group_lists_its_jobs(
    store: Store, client: TestClient
) -> None:
    job = failed_with_long_names(LENGTH)
    assert len(job.class_name) > LENGTH
    html = client.get("/failures").text
    link = re.search(r'<td class="col-class"><div class="class-cell"><a href="([^"]+)"', html)
    assert link is not None
    listed = client.get(unescape(link.group(1)))
    assert listed.status_code == 200, listed.text[:500]
    assert re.findall(r'data-job-id="(\d+)"', listed.text) == [str(job.id)]
    assert "1 matching failed job" in text_of(listed.text)
    live = re.search(r'data-live-url="([^"]+)"', listed.text)
    assert live is not None
    assert client.get(unescape(live.group(1))).status_code == 200


def test_retry_all_of_a_long_named_group(store: Store, client: TestClient) -> None:
    job = failed_with_long_names(LENGTH)
    assert job.exception is not None
    fields = {"class_name": job.class_name, "exception_class": job.exception.class_name}
    status, location = post_form(client, "/failures/retry", **fields)
    assert (status, location) == (303, "/failures")
    assert job.reload().state is rj.State.QUEUED


def test_the_api_takes_long_class_names(store: Store, client: TestClient) -> None:
    job = failed_with_long_names(LENGTH)
    assert job.exception is not None
    (group,) = client.get("/api/failures").json()
    assert (group["class_name"], group["exception_class"]) == (
        job.class_name,
        job.exception.class_name,
    )
    body = {"class_name": group["class_name"], "exception_class": group["exception_class"]}
    response = client.post("/api/failures/abort", json=body)
    assert response.json() == {"action": "abort", "done": 1, "skipped": 0}


def test_a_long_named_worker_can_be_paused_from_its_page_and_the_api(
    store: Store, client: TestClient
) -> None:
    name = "batch-" + "w" * 2_000 + ":7"  # rocketjob worker --name takes any name
    store.register_worker(name, "host", 7, 4)
    html = client.get("/workers").text
    action = re.search(r'<form method="post" action="(/workers/batch-[^"]+/pause)"', html)
    assert action is not None
    status, location = post_form(client, unescape(action.group(1)))
    assert (status, location) == (303, "/workers")
    assert rj.list_workers()[0].desired_state == "paused"
    response = client.post(f"/api/workers/{name}/resume")
    assert response.json() == {"asked": [name], "desired_state": "running"}
