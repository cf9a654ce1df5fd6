"""An operator in Chromium asks why a queued job is waiting: the job page lists each
reason, and the jobs it names link to their pages."""

from __future__ import annotations

import pytest
from browsing import Server
from playwright.sync_api import Page, expect
from sample_jobs import Fails, Kept

pytestmark = pytest.mark.e2e


def test_the_job_page_says_why_a_job_waits_with_links(page: Page, server: Server) -> None:
    first = Fails.create(description="import")
    first.fail("file missing")
    then = Kept.create(description="report", depends_on=[first])

    page.goto(f"{server.url}/jobs/{then.id}")
    reasons = page.get_by_role("list", name="Wait reasons")
    expect(reasons.locator("[data-code=dependencies]")).to_contain_text(
        f"waits on #{first.id} (failed)"
    )
    expect(reasons.locator("[data-code=no_worker]")).to_contain_text("no worker is alive")
    reasons.get_by_role("link", name=f"#{first.id}").click()
    expect(page).to_have_url(f"{server.url}/jobs/{first.id}")
    expect(page.locator("#job-waiting")).to_be_hidden()
