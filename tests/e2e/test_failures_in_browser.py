"""An operator in Chromium on the Failures page: a group, its Failed list, Retry all and
Abort all through the confirmation dialog."""

from __future__ import annotations

import pytest
from browsing import Server, confirm
from failing import failed_by_worker
from playwright.sync_api import Page, expect
from sample_jobs import Noop

import rocketjob as rj

pytestmark = pytest.mark.e2e
GROUP = "failed jobs of sample_jobs.Fails that raised ValueError"


def test_see_a_group_open_its_list_and_retry_it_all(page: Page, server: Server) -> None:
    ids = [failed_by_worker(f"card {i} declined").id for i in range(2)]
    other = Noop.create().fail("not needed")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{server.url}/jobs")
    page.get_by_role("link", name="Failures").click()
    row = page.locator("tr", has_text="ValueError")
    expect(row.locator(".latest-message")).to_have_text("card 1 declined")
    expect(row.locator(".total")).to_have_text("2")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    row.locator(".total a").click()
    expect(page.get_by_role("heading", name="Failed jobs")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator(".bulk-count")).to_have_text("2 matching failed jobs, on every page")

    page.get_by_role("button", name=f"Retry all {GROUP}").click()
    expect(page.locator("#confirm-question")).to_have_text(f"Retry all {GROUP}?")
    confirm(page, "Retry all")
    expect(page.locator(".flash")).to_have_text(f"Retried 2 {GROUP}.")
    expect(page.get_by_text("No failed jobs of this kind any more")).to_be_visible()
    assert {rj.Job.find(i).state for i in ids} == {rj.State.QUEUED}

    page.get_by_role("link", name="All failures").click()
    name = "Abort all failed jobs of sample_jobs.Noop that raised rocketjob.Failed"
    page.get_by_role("button", name=name).click()
    confirm(page, "Abort all")
    expect(page.locator(".flash")).to_contain_text("Aborted 1 failed job of sample_jobs.Noop")
    expect(page.get_by_text("No failed jobs.")).to_be_visible()
    assert other.reload().state is rj.State.ABORTED
