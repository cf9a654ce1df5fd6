"""An operator in Chromium: the lists, a failed job retried, a running job paused and
resumed, live updates without reloading, and the same with JavaScript off."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from browsing import Server, assert_not_reloaded, confirm, mark_page
from playwright.sync_api import Page, expect
from processes import Background
from sample_jobs import Fails, Kept, Noop, Slow

import rocketjob as rj

pytestmark = pytest.mark.e2e


def test_open_the_lists_then_retry_a_failed_job(page: Page, server: Server) -> None:
    Noop.create(description="quick one")
    Noop.create(description="later one", run_at=datetime.now(UTC) + timedelta(hours=1))
    failed = Fails.create(description="charge card")
    failed.fail("card declined")

    page.goto(f"{server.url}/jobs")
    expect(page.get_by_role("heading", name="All jobs")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_text("runs in 59 min")).to_be_visible()

    page.keyboard.press("/")
    page.keyboard.type("charge")
    page.keyboard.press("Enter")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{server.url}/jobs?q=charge")

    page.get_by_role("link", name=re.compile("^Failed")).click()
    expect(page.get_by_role("heading", name="Failed jobs")).to_be_visible()
    page.get_by_role("link", name=f"sample_jobs.Fails job #{failed.id}").click()

    expect(page.locator(".exception-message")).to_have_text("card declined")
    page.get_by_role("button", name=f"Retry job #{failed.id}").click()
    confirm(page, "Retry")
    expect(page.locator(".flash")).to_have_text(f"Retried job #{failed.id} (Fails): it is queued.")
    expect(page.locator("#job-head .badge")).to_have_text("queued")
    assert failed.reload().state is rj.State.QUEUED


def test_cancelling_the_confirmation_changes_nothing(page: Page, server: Server) -> None:
    job = Noop.create()
    page.goto(f"{server.url}/jobs/{job.id}")
    page.get_by_role("button", name=f"Abort job #{job.id}").click()
    confirm(page, "Cancel")
    expect(page.locator("#confirm-dialog")).to_be_hidden()
    assert job.reload().state is rj.State.QUEUED


def test_lists_and_counts_update_by_themselves(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/jobs")
    expect(page.get_by_text("No jobs yet.")).to_be_visible()
    mark_page(page)
    job = Kept.create(description="arrived later")
    expect(page.get_by_text("arrived later")).to_be_visible()
    expect(page.locator(".state-link.state-queued .count")).to_have_text("1")
    job.pause()
    expect(page.locator(f'tr[data-job-id="{job.id}"] .badge')).to_have_text("paused")
    expect(page.locator(".state-link.state-paused .count")).to_have_text("1")
    assert_not_reloaded(page)


def test_pause_and_resume_a_running_job(page: Page, server: Server, worker: Background) -> None:
    job = Slow.create(steps=600, step_seconds=0.05, description="resize photos")
    page.goto(f"{server.url}/jobs/{job.id}")
    mark_page(page)
    badge = page.locator("#job-head .badge")
    expect(badge).to_have_text("running", timeout=20_000)  # the worker took it: no reload
    expect(page.locator("#job-head progress")).to_be_visible()
    assert_not_reloaded(page)

    page.get_by_role("button", name=f"Pause job #{job.id}").click()
    confirm(page, "Pause")
    expect(page.locator(".flash")).to_have_text(f"Paused job #{job.id} (Slow): it is paused.")
    expect(badge).to_have_text("paused")
    assert job.reload().state is rj.State.PAUSED

    page.get_by_role("button", name=f"Resume job #{job.id}").click()
    confirm(page, "Resume")
    expect(page.locator(".flash")).to_contain_text(f"Resumed job #{job.id} (Slow)")
    mark_page(page)
    expect(badge).to_have_text("running", timeout=20_000)
    assert_not_reloaded(page)
    history = [entry.action for entry in job.reload().history()]
    assert history[:4] == ["start", "pause", "resume", "start"]


def test_every_action_works_with_javascript_off(browser: object, server: Server) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    job = Noop.create(description="no script here")
    page.goto(f"{server.url}/jobs/{job.id}")
    page.get_by_role("button", name=f"Fail job #{job.id}").click()
    expect(
        page.get_by_role("heading", name=f"Fail job #{job.id} (sample_jobs.Noop)?")
    ).to_be_visible()
    page.get_by_label("Reason").fill("not needed")
    page.get_by_role("button", name="Fail").click()
    expect(page.locator(".flash")).to_have_text(f"Failed job #{job.id} (Noop): it is failed.")
    expect(page.locator(".exception-message")).to_have_text("not needed")
    context.close()


def test_mounted_under_a_prefix_in_a_host_application(page: Page, mounted_server: Server) -> None:
    job = Noop.create(description="behind a prefix")
    page.goto(f"{mounted_server.url}/")
    expect(page).to_have_url(f"{mounted_server.url}/jobs")
    page.get_by_role("link", name=f"sample_jobs.Noop job #{job.id}").click()
    expect(page).to_have_url(f"{mounted_server.url}/jobs/{job.id}")
    page.get_by_role("button", name=f"Pause job #{job.id}").click()
    confirm(page, "Pause")
    expect(page.locator(".flash")).to_have_text(f"Paused job #{job.id} (Noop): it is paused.")
    mark_page(page)
    job.resume()
    expect(page.locator("#job-head .badge")).to_have_text("queued")  # refreshed under the prefix
    assert_not_reloaded(page)
    page.get_by_role("link", name="Workers").click()
    expect(page).to_have_url(f"{mounted_server.url}/workers")
