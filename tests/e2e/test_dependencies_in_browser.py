"""An operator in Chromium follows a job's dependencies: what it waits on, what waits on
it, both linked, and a failed prerequisite destroyed to let its dependant run."""

from __future__ import annotations

import pytest
from browsing import Server, confirm
from playwright.sync_api import Page, expect
from sample_jobs import Fails, Kept

import rocketjob as rj

pytestmark = pytest.mark.e2e


def test_the_job_page_links_both_neighbours_and_says_what_holds_the_job(
    page: Page, server: Server
) -> None:
    first = Fails.create(description="import")
    first.fail("file missing")
    done = Kept.create()
    done.perform_now()
    then = Kept.create(description="report", depends_on=[first, done])

    page.goto(f"{server.url}/jobs/{then.id}")
    waits_on = page.get_by_role("list", name="Waits on")
    expect(waits_on.get_by_role("listitem")).to_have_count(2)
    expect(waits_on.get_by_role("listitem").first).to_contain_text("failed")
    expect(waits_on.get_by_role("listitem").last).to_contain_text("completed")
    expect(page.locator("#job-dependencies .notice")).to_contain_text(
        f"Waits on 1 job not completed yet: #{first.id} (failed). Retry it, or destroy it"
    )

    waits_on.get_by_role("link", name=f"#{first.id}").click()
    expect(page).to_have_url(f"{server.url}/jobs/{first.id}")
    waited_on_by = page.get_by_role("list", name="Waited on by")
    expect(waited_on_by).to_contain_text("queued")
    page.get_by_role("button", name=f"Destroy job #{first.id}").click()
    confirm(page, "Destroy")

    page.goto(f"{server.url}/jobs/{then.id}")
    expect(page.get_by_role("list", name="Waits on")).to_contain_text(f"#{first.id} (destroyed)")
    expect(page.locator("#job-dependencies .notice")).to_have_count(0)
    assert then.reload().waiting_on == 0 and then.state is rj.State.QUEUED
    page.get_by_role("link", name=f"#{done.id}").click()
    expect(page.get_by_role("list", name="Waited on by")).to_contain_text(f"#{then.id}")
