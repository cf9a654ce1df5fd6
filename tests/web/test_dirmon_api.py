"""The JSON API of dirmon entries: create, list, change, enable, disable, destroy, and its
refusals (422 naming the field, 404, 409), with the roots enforced by the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import rocketjob as rj
from rocketjob import config
from rocketjob.store import Store


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "in").mkdir()
    rj.configure(dirmon_roots=[tmp_path / "in"])
    yield tmp_path / "in"
    config._dirmon_roots = None


def test_an_entry_goes_through_its_life_over_the_api(
    store: Store, client: TestClient, root: Path
) -> None:
    import dirmon_jobs

    body = {"name": "orders", "pattern": f"{root}/**/*.csv", "job_class": "dirmon_jobs.Ingest"}
    created = client.post("/api/dirmon", json=body)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["state"], entry["actions"]) == ("pending", ["enable"])
    assert client.get("/api/dirmon").json() == [entry]
    enabled = client.post(f"/api/dirmon/{entry['id']}/enable").json()
    assert enabled["state"] == "enabled"
    refused = client.post(f"/api/dirmon/{entry['id']}/enable")
    assert refused.status_code == 409
    assert refused.json() == {"detail": "cannot enable dirmon entry orders: it is enabled"}
    changed = client.put(
        f"/api/dirmon/{entry['id']}", json={**body, "properties": {"customer": "globex"}}
    )
    assert changed.json()["properties"] == {"customer": "globex"}
    assert client.delete(f"/api/dirmon/{entry['id']}").status_code == 204
    assert client.get(f"/api/dirmon/{entry['id']}").status_code == 404
    assert dirmon_jobs.Ingest.class_name == "dirmon_jobs.Ingest"


@pytest.mark.parametrize(
    ("pattern", "field"),
    [("/etc/*.conf", "pattern"), ("{root}/../*", "pattern"), ("{root}/*", "properties")],
)
def test_bad_entries_are_refused_naming_the_field(
    store: Store, client: TestClient, root: Path, pattern: str, field: str
) -> None:
    import dirmon_jobs  # noqa: F401

    body = {
        "name": "x",
        "pattern": pattern.format(root=root),
        "job_class": "dirmon_jobs.Ingest",
        "properties": {"batch_size": "many"},
    }
    refused = client.post("/api/dirmon", json=body)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", field]
    assert client.get("/api/dirmon").json() == []
