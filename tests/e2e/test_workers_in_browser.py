"""The workers page in Chromium, against a real `rocketjob worker` process."""

from __future__ import annotations

import pytest
from browsing import Server, assert_not_reloaded, confirm, mark_page
from playwright.sync_api import Page, expect
from processes import Background, wait_until
from sample_jobs import Slow

pytestmark = pytest.mark.e2e


def test_pause_resume_and_stop_all_from_the_actions_menu(
    page: Page, server: Server, worker: Background
) -> None:
    page.goto(f"{server.url}/workers")
    row = page.locator("tr.worker")
    expect(row).to_have_count(1, timeout=20_000)
    badge = row.locator(".worker-state .badge")
    expect(badge).to_have_text("running", timeout=20_000)

    for label, verb, state in (
        ("Pause All", "pause", "paused"),
        ("Resume All", "resume", "running"),
    ):
        page.locator("#workers-menu summary").click()
        page.get_by_role("button", name=label).click()
        confirm(page, label)
        expect(page.locator(".flash")).to_have_text(f"Asked every worker to {verb} (1 worker).")
        mark_page(page)
        expect(badge).to_have_text(state, timeout=20_000)  # the worker obeyed; no reload
        assert_not_reloaded(page)

    page.locator("#workers-menu summary").click()
    page.get_by_role("button", name="Stop All").click()
    confirm(page, "Stop All")
    expect(page.locator(".flash")).to_have_text("Asked every worker to stop (1 worker).")
    mark_page(page)
    expect(page.get_by_text("No worker is running.")).to_be_visible(timeout=20_000)
    assert_not_reloaded(page)
    wait_until(lambda: worker.poll() is not None, 20, "the worker to exit")
    assert worker.returncode == 0


def test_a_worker_shows_the_job_it_runs_and_pauses_alone(
    page: Page, server: Server, worker: Background
) -> None:
    job = Slow.create(steps=600, step_seconds=0.05, description="long export")
    page.goto(f"{server.url}/workers")
    row = page.locator("tr.worker")
    link = row.get_by_role("link", name=f"Slow #{job.id}")
    expect(link).to_be_visible(timeout=20_000)
    expect(row).to_contain_text("1/2 busy")
    name = row.get_attribute("data-worker")
    row.get_by_role("button", name=f"Pause worker {name}").click()
    confirm(page, "Pause")
    expect(page.locator(".flash")).to_have_text(f"Asked worker {name} to pause.")
    expect(row.locator(".worker-state .badge")).to_have_text("paused", timeout=20_000)
    link.click()
    expect(page.locator("#job-head .badge")).to_have_text("running")
