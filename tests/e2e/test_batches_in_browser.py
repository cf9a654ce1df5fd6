"""An operator in Chromium on a batch job: the slice bar, a failed record, a per-slice
Retry, live progress without reloading, and the failed records download."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from batch_jobs import Squares
from batching import process, start
from browsing import Server, assert_not_reloaded, confirm, mark_page
from playwright.sync_api import Page, expect

import rocketjob as rj
from rocketjob.config import get_store

pytestmark = pytest.mark.e2e


def test_a_failed_batch_is_inspected_and_one_slice_retried(
    page: Page, server: Server, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.touch()
    job = Squares.create(broken=str(broken), fail_every=130)
    job.upload(range(1, 1_001))
    store = get_store()
    start(store)
    process(store)
    assert job.reload().state is rj.State.FAILED

    page.goto(f"{server.url}/jobs/{job.id}")
    expect(page.locator(".batch-count")).to_have_text("1,000 records in 20 slices of 50")
    expect(page.get_by_role("img", name=re.compile("^Slices: 13 done"))).to_be_visible()
    expect(page.locator('.slice-count[data-state="failed"] strong')).to_have_text("7")
    expect(page.locator(".failure-groups tbody tr")).to_have_text(re.compile("ValueError\\s*7"))

    page.get_by_role("link", name="Record 260 of slice 6").click()
    expect(page.locator(".failed-record")).to_have_text("260")
    expect(page.locator(".exception-message")).to_have_text("cannot square 260")
    expect(page.locator("#backtrace pre")).to_contain_text("Traceback (most recent call last):")
    page.go_back()

    broken.unlink()  # the fix
    page.get_by_role("button", name="Retry slice 6").click()
    confirm(page, "Retry")
    expect(page.locator(".flash")).to_have_text(f"Retried slice 6 of job #{job.id}: it is queued.")
    expect(page.locator('.slice-count[data-state="queued"] strong')).to_have_text("1")

    mark_page(page)
    process(store)  # a worker runs the retried slice: the page follows by itself
    expect(page.locator('.slice-count[data-state="failed"] strong')).to_have_text("6")
    expect(page.locator('.slice-count[data-state="completed"] strong')).to_have_text("14")
    assert_not_reloaded(page)

    link = page.get_by_role("link", name="Download failed records (CSV)")
    got = page.request.get(server.url + str(link.get_attribute("href")))
    lines = got.text().splitlines()
    assert lines[0] == "record_number,exception_class,exception_message,record"
    assert len(lines) == 7 and "260," not in got.text()
