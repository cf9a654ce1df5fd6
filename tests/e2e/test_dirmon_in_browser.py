"""The Dirmon page in Chromium, against a real `rocketjob web`: an entry created from the
form, enabled, a file dropped and taken by `rocketjob dirmon scan --once`, its job
followed from the row, then the entry disabled and destroyed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dirmon_jobs
import pytest
from browsing import Server, confirm, free_port, responds, stop
from playwright.sync_api import Page, expect
from processes import rocketjob, start_rocketjob, wait_until

import rocketjob as rj
from rocketjob import config
from rocketjob.config import DIRMON_ROOTS_ENV, get_store
from rocketjob.dirmon.scan import SETTLE

pytestmark = pytest.mark.e2e


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The dirmon root of every process started from here."""
    root = tmp_path / "in"
    root.mkdir()
    monkeypatch.setenv(DIRMON_ROOTS_ENV, str(root))
    return root


@pytest.fixture
def dirmon_server(database: str, inbox: Path) -> Iterator[Server]:
    port = free_port()
    process = start_rocketjob(
        "web", "--port", str(port), "--import", "dirmon_jobs", database_url=database
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or responds(f"{url}/dirmon"), 30, "web")
        assert process.poll() is None, process.output()
        yield Server(url, database)
    finally:
        stop(process)


def _scan(database: str) -> None:
    scanned = rocketjob(
        "dirmon", "scan", "--once", "--import", "dirmon_jobs", database_url=database
    )
    assert scanned.returncode == 0, scanned.stderr


def test_an_entry_from_the_form_to_the_job_it_started(
    page: Page, dirmon_server: Server, inbox: Path
) -> None:
    page.goto(f"{dirmon_server.url}/dirmon")
    expect(page.locator(".empty")).to_contain_text("No dirmon entries yet.")
    page.get_by_role("link", name="New entry").click()

    page.get_by_label("Name").fill("orders")
    page.get_by_label("Pattern").fill("/etc/*.csv")
    page.get_by_label("Job class").fill("dirmon_jobs.Ingest")
    page.get_by_label("Properties").fill('{"customer": "globex"}')
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#pattern-error")).to_have_text(
        f"'/etc/*.csv' is not under a dirmon root ({inbox})"
    )
    expect(page.get_by_label("Pattern")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Pattern")).to_have_value("/etc/*.csv")
    expect(page.get_by_label("Name")).to_have_value("orders")
    expect(page.get_by_label("Properties")).to_have_value('{"customer": "globex"}')
    assert page.locator(".field-error").count() == 1

    page.get_by_label("Pattern").fill(f"{inbox}/*.csv")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".flash")).to_have_text(
        "Created dirmon entry orders: it is pending until enabled."
    )
    row = page.locator('tr[data-dirmon="orders"]')
    badge = row.locator(".col-state .badge")
    expect(badge).to_have_text("pending")
    expect(row.locator(".col-pattern")).to_have_text(f"{inbox}/*.csv")

    row.get_by_role("button", name="Enable orders").click()
    expect(page.locator(".flash")).to_have_text(
        f"Enabled orders: the next scan watches {inbox}/*.csv."
    )
    expect(badge).to_have_text("enabled")
    expect(row.get_by_role("button")).to_have_text(["Disable", "Destroy"])

    (inbox / "march.csv").write_text("id\n1\n")
    _scan(dirmon_server.database_url)  # seen once
    entry = rj.DirmonEntry.find("orders")
    store = get_store()
    wait_until(
        lambda: all(
            store.now() - seen["seen_at"] >= SETTLE
            for seen in store.dirmon_observations(entry.id).values()
        ),
        10,
        "a second since the file was seen",
    )
    _scan(dirmon_server.database_url)  # unchanged since: taken
    job_id = rj.DirmonEntry.find("orders").last_job_id
    assert job_id is not None
    expect(row.locator(".files-started")).to_have_text("1", timeout=20_000)  # live refresh
    expect(row.locator(".col-scan time")).to_be_visible()

    row.get_by_role("link", name=f"The latest job orders started: #{job_id}").click()
    expect(page.locator("h1")).to_contain_text(f"#{job_id}")
    expect(page.locator("main")).to_contain_text("orders: march.csv")
    page.go_back()
    row.get_by_role("link", name="The jobs orders started (1)").click()
    expect(page.locator(f'a[href$="/jobs/{job_id}"]').first).to_be_visible()
    page.go_back()

    row.get_by_role("button", name="Disable orders").click()
    expect(badge).to_have_text("disabled")
    expect(row.get_by_role("button")).to_have_text(["Enable", "Destroy"])

    row.get_by_role("button", name="Destroy orders").click()
    confirm(page, "Destroy")
    expect(page.locator(".flash")).to_have_text(
        "Destroyed dirmon entry orders; the jobs it started and their files stay."
    )
    expect(page.locator('tr[data-dirmon="orders"]')).to_have_count(0)
    assert rj.DirmonEntry.all() == []
    assert rj.Job.find(job_id).description == "orders: march.csv"


def test_the_dirmon_page_never_scrolls_sideways(
    page: Page, dirmon_server: Server, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_name = "nightly-exports-of-the-finance-department-warehouse"
    monkeypatch.setattr(config, "_dirmon_roots", (str(inbox),))
    for name, pattern in ((long_name, "exports/**/*.{csv,txt}"), ("orders", "*.csv")):
        rj.DirmonEntry.create(
            name=name,
            pattern=f"{inbox}/{pattern}",
            job_class=dirmon_jobs.Ingest,
            archive_directory=f"archive-{name}",
        ).enable()
    for width, height in ((1280, 800), (1024, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{dirmon_server.url}/dirmon")
        row = page.locator(f'tr[data-dirmon="{long_name}"]')
        expect(row.locator(".col-name")).to_have_text(long_name)
        overflow = page.evaluate(
            """() => {
                const list = document.querySelector('.dirmon-list');
                const root = document.documentElement;
                return [root.scrollWidth - root.clientWidth, list.scrollWidth - list.clientWidth];
            }"""
        )
        assert overflow == [0, 0], width
        job_class = row.locator(".col-class .class-text")  # never cut short
        assert job_class.evaluate("e => e.scrollWidth <= e.clientWidth"), width
        name = row.locator(".col-name").bounding_box()  # never a letter a line
        assert name is not None and name["width"] > 100, width
        for button in row.get_by_role("button").all():
            box = button.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width
