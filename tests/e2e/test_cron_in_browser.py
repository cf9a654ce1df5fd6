"""The Cron page in Chromium, against a real `rocketjob web` process."""

from __future__ import annotations

import pytest
from browsing import Server, assert_not_reloaded, confirm, mark_page
from cron_jobs import EveryMinute, NineInParis
from playwright.sync_api import Page, expect

import rocketjob as rj
from rocketjob.config import get_store
from rocketjob.worker.cron import CronKeeper

pytestmark = pytest.mark.e2e
NINE = "cron_jobs.NineInParis"


def test_pause_and_resume_a_schedule_from_its_row(page: Page, server: Server) -> None:
    CronKeeper(get_store(), [EveryMinute, NineInParis]).sync()
    page.goto(f"{server.url}/cron")
    row = page.locator(f'tr[data-cron="{NINE}"]')
    badge = row.locator(".col-state .badge")
    expect(badge).to_have_text("scheduled")
    expect(row.locator(".in-words")).to_have_text("At 09:00 every day")

    row.get_by_role("button", name=f"Pause {NINE}").click()
    confirm(page, "Pause")
    expect(page.locator(".flash")).to_have_text(
        "Paused NineInParis: nothing of it runs until it is resumed."
    )
    expect(badge).to_have_text("paused")
    expect(row.get_by_role("button")).to_have_text(["Resume"])
    assert [info.paused for info in rj.list_cron()] == [False, True]

    row.get_by_role("button", name=f"Resume {NINE}").click()
    confirm(page, "Resume")
    expect(page.locator(".flash")).to_contain_text("Resumed NineInParis: next run in ")
    expect(badge).to_have_text("scheduled")
    expect(row.get_by_role("button")).to_have_text(["Run now", "Pause"])

    mark_page(page)
    rj.pause_cron(NINE, by="user:someone-else")  # another operator, elsewhere
    expect(badge).to_have_text("paused", timeout=20_000)  # the page refreshed itself
    assert_not_reloaded(page)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1024, 768), (390, 844)])
def test_the_cron_page_never_scrolls_sideways(
    page: Page, server: Server, width: int, height: int
) -> None:
    module = "billing.exports.quarterly_reports.finance_department.scheduled_tasks"
    nightly = type("NightlyExport", (rj.Job,), {"__module__": module, "cron": "30 2 * * *"})
    CronKeeper(get_store(), [EveryMinute, NineInParis, nightly]).sync()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{server.url}/cron")
    row = page.locator(f'tr[data-cron="{nightly.class_name}"]')
    expect(row.locator(".short")).to_have_text("NightlyExport")
    overflow = page.evaluate(
        """() => {
            const list = document.querySelector('.cron-list');
            const root = document.documentElement;
            return [root.scrollWidth - root.clientWidth, list.scrollWidth - list.clientWidth];
        }"""
    )
    assert overflow == [0, 0]
    for button in row.get_by_role("button").all():
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
