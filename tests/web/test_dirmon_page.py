"""The Dirmon page: entries listed with their state and the jobs they started; create and
edit forms with each problem beside its field; Enable, Disable and Destroy as plain forms,
refused with a flash when the state does not allow them; CSRF on every form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import dirmon_jobs
import pytest
from manual_clock import ManualClock
from starlette.testclient import TestClient
from test_forms import flash
from webpages import csrf_token, post_form, text_of

import rocketjob as rj
from rocketjob import config
from rocketjob.dirmon.scan import Scanner
from rocketjob.store import Store


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "in").mkdir()
    rj.configure(dirmon_roots=[tmp_path / "in"])
    yield tmp_path / "in"
    config._dirmon_roots = None


def _fields(root: Path, **changes: str) -> dict[str, str]:
    return {
        "name": "orders",
        "pattern": f"{root}/**/*.csv",
        "job_class": dirmon_jobs.Ingest.class_name,
        "properties": '{"customer": "globex"}',
        "archive_directory": "archive",
        **changes,
    }


def _errors(html: str) -> dict[str, str]:
    """Each problem shown, by the field it sits beside."""
    found = re.findall(r'<p class="field-error" id="(\w+)-error">([^<]*)</p>', html)
    return {name: text_of(problem) for name, problem in found}


def _value(html: str, name: str) -> str:
    match = re.search(rf'<input id="{name}" name="{name}" type="text" value="([^"]*)"', html)
    assert match is not None, name
    return text_of(match.group(1))


def _row(html: str, name: str) -> str:
    start = html.rindex("<tr", 0, html.index(f'data-dirmon="{name}"'))
    return html[start : html.index("</tr>", start)]


def _buttons(html: str, name: str) -> list[str]:
    return re.findall(rf'aria-label="(\w+) {name}"', _row(html, name))


def test_without_roots_the_page_says_how_to_configure_them(
    store: Store, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "_dirmon_roots", None)
    monkeypatch.delenv(config.DIRMON_ROOTS_ENV, raising=False)
    html = client.get("/dirmon").text
    assert '<a href="/dirmon" aria-current="page">Dirmon</a>' in html
    assert (
        "Dirmon watches no directory yet. Name the directories it may read and move files in, "
        "where Mission Control and the workers run: ROCKETJOB_DIRMON_ROOTS=/data/in"
    ) in text_of(html)
    assert "New entry" not in html


def test_bad_values_are_shown_beside_their_fields_with_the_input_kept(
    store: Store, client: TestClient, root: Path
) -> None:
    assert "No dirmon entries yet." in text_of(client.get("/dirmon").text)
    sent = _fields(root, pattern="/etc/*.conf", properties='{"batch_size": "many"}', name=" ")
    response = client.post("/dirmon", data={"csrf_token": csrf_token(client), **sent})
    assert response.status_code == 200  # the form again, nothing saved
    errors = _errors(response.text)
    assert errors == {
        "name": "is required",
        "pattern": f"'/etc/*.conf' is not under a dirmon root ({root})",
        "properties": "batch_size: Input should be a valid integer, unable to parse string as an "
        "integer",
    }
    assert _value(response.text, "pattern") == "/etc/*.conf"
    assert '"batch_size": "many"' in text_of(response.text)
    assert rj.DirmonEntry.all() == []

    sent = _fields(root, properties="{oops", archive_directory="../out")
    response = client.post("/dirmon", data={"csrf_token": csrf_token(client), **sent})
    assert _errors(response.text) == {
        "properties": "is not JSON: Expecting property name enclosed in double quotes (line 1)",
        "archive_directory": "must not contain '..': '../out'",
    }


def test_paths_outside_the_roots_read_the_same_whether_or_not_they_exist(
    store: Store, client: TestClient, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret").mkdir()
    (root / "way-out").symlink_to(tmp_path / "secret")
    shown = {}
    for probe in ("secret", "no-such-directory"):
        for pattern in (f"{tmp_path}/{probe}/*.csv", f"{root}/way-out/../../{probe}/*"):
            sent = _fields(root, pattern=pattern, archive_directory=f"{tmp_path}/{probe}")
            html = client.post("/dirmon", data={"csrf_token": csrf_token(client), **sent}).text
            shown[pattern] = _errors(html)["pattern"].replace(probe, "…")
        sent = _fields(root, archive_directory=f"{tmp_path}/{probe}")
        html = client.post("/dirmon", data={"csrf_token": csrf_token(client), **sent}).text
        shown[probe] = _errors(html)["archive_directory"].replace(probe, "…")
    assert shown["secret"] == shown["no-such-directory"]
    assert shown[f"{tmp_path}/secret/*.csv"] == shown[f"{tmp_path}/no-such-directory/*.csv"]
    linked = f"{root}/way-out/*.csv"  # a symlink in the root leading out of it
    html = client.post(
        "/dirmon", data={"csrf_token": csrf_token(client), **_fields(root, pattern=linked)}
    ).text
    assert _errors(html) == {"pattern": f"{linked!r} is not under a dirmon root ({root})"}
    assert rj.DirmonEntry.all() == []


def test_an_entry_created_listed_edited_and_its_jobs_linked(
    store: Store, client: TestClient, root: Path
) -> None:
    status, location = post_form(client, "/dirmon", confirmed=False, **_fields(root))
    assert (status, location) == (303, "/dirmon")
    assert flash(client, location) == "Created dirmon entry orders: it is pending until enabled."
    html = client.get("/dirmon").text
    row = text_of(_row(html, "orders"))
    assert row == (
        f"pending orders {root}/**/*.csv dirmon_jobs.Ingest archive never 0 — Edit Enable Destroy"
    )
    assert _buttons(html, "orders") == ["Edit", "Enable", "Destroy"]
    (entry,) = rj.DirmonEntry.all()
    assert entry.properties == {"customer": "globex"}

    form = client.get(f"/dirmon/{entry.id}/edit").text
    assert _value(form, "pattern") == f"{root}/**/*.csv"
    assert '"customer": "globex"' in text_of(form)
    offered = re.findall(r'<option value="([^"]+)">', form)  # the classes dirmon can start
    assert {"dirmon_jobs.Ingest", "dirmon_jobs.Lines"} <= set(offered)
    assert not {"dirmon_jobs.NoFileField", "rocketjob.batch.job.BatchJob"} & set(offered)
    bad = _fields(root, job_class="dirmon_jobs.NoFileField")
    response = client.post(f"/dirmon/{entry.id}", data={"csrf_token": csrf_token(client), **bad})
    assert response.status_code == 200
    assert _errors(response.text)["job_class"].startswith(
        "dirmon_jobs.NoFileField must declare `upload_file_name: str`"
    )
    assert _value(response.text, "job_class") == "dirmon_jobs.NoFileField"
    status, location = post_form(
        client, f"/dirmon/{entry.id}", confirmed=False, **_fields(root, pattern=f"{root}/*.csv")
    )
    assert flash(client, location) == "Saved dirmon entry orders: it is pending."
    assert entry.reload().pattern == f"{root}/*.csv"

    entry.reload().enable()
    clock = store.clock = ManualClock()
    (root / "a.csv").write_text("id\n")
    Scanner(store, "test").scan_all()
    clock.advance()
    [job_id] = Scanner(store, "test").scan_all().started
    row = _row(client.get("/dirmon").text, "orders")
    assert 'href="/jobs?q=orders%3A+"' in row
    assert f'href="/jobs/{job_id}"' in row
    assert "1 latest #" in text_of(row)
    listed = client.get("/jobs?q=orders%3A+").text
    assert f'href="/jobs/{job_id}"' in listed


def test_actions_move_the_state_and_refuse_with_a_flash(
    store: Store, client: TestClient, root: Path
) -> None:
    entry = rj.DirmonEntry.create(name="orders", pattern=f"{root}/*", job_class=dirmon_jobs.Ingest)
    _, location = post_form(client, f"/dirmon/{entry.id}/enable", confirmed=False)
    assert flash(client, location) == f"Enabled orders: the next scan watches {root}/*."
    assert _buttons(client.get("/dirmon").text, "orders") == ["Edit", "Disable", "Destroy"]
    status, location = post_form(client, f"/dirmon/{entry.id}/enable")
    assert (status, location) == (303, "/dirmon")
    assert flash(client, location) == "Cannot enable dirmon entry orders: it is enabled."
    _, location = post_form(client, f"/dirmon/{entry.id}/disable")
    assert flash(client, location).startswith("Disabled orders: its files are left alone")
    _, location = post_form(client, f"/dirmon/{entry.id}/disable")
    assert flash(client, location) == "Cannot disable dirmon entry orders: it is disabled."

    status, page = post_form(client, f"/dirmon/{entry.id}/destroy", confirmed=False)
    assert status == 200
    assert (
        "Destroy dirmon entry orders? The jobs it started and their archived files stay."
        in text_of(page)
    )
    assert rj.DirmonEntry.all() == [entry.reload()]
    _, location = post_form(client, f"/dirmon/{entry.id}/destroy")
    assert flash(client, location).startswith("Destroyed dirmon entry orders;")
    assert rj.DirmonEntry.all() == []
    _, location = post_form(client, f"/dirmon/{entry.id}/enable")  # from a page left open
    assert flash(client, location) == f"No dirmon entry {entry.id}."
    status, page = post_form(client, f"/dirmon/{entry.id}/edit_all")
    assert status == 404
    assert client.get(f"/dirmon/{entry.id}/edit").status_code == 404
    assert client.get("/dirmon/x/edit").status_code == 422


def test_every_dirmon_form_needs_the_pages_token(
    store: Store, client: TestClient, root: Path
) -> None:
    entry = rj.DirmonEntry.create(name="orders", pattern=f"{root}/*", job_class=dirmon_jobs.Ingest)
    csrf_token(client, "/dirmon")
    forged = {"csrf_token": "forged", "confirmed": "yes"}
    assert client.post("/dirmon", data={**forged, **_fields(root, name="x")}).status_code == 403
    changed = {**forged, **_fields(root, name="renamed")}
    assert client.post(f"/dirmon/{entry.id}", data=changed).status_code == 403
    for action in ("enable", "destroy"):
        assert client.post(f"/dirmon/{entry.id}/{action}", data=forged).status_code == 403
        assert client.post(f"/dirmon/{entry.id}/{action}").status_code == 403
    assert rj.DirmonEntry.all() == [entry]
