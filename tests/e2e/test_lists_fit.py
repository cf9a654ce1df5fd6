"""The jobs list fits the window: no sideways scrolling at laptop and phone widths, long
class names shortened from their module part, the short name and progress in view."""

from __future__ import annotations

import pytest
from browsing import Server
from playwright.sync_api import Page, expect

from rocketjob.config import get_store
from rocketjob.mission_control.demo import ResizeImages, SendWelcomeEmail

pytestmark = pytest.mark.e2e
LONG_DESCRIPTION = "resize every photo of the album 'Holidays 2026' in three sizes " * 3


def horizontal_overflow(page: Page) -> dict[str, int]:
    """How many pixels the page, and the list inside it, would scroll sideways."""
    overflow: dict[str, int] = page.evaluate(
        """() => {
            const list = document.querySelector('.job-list');
            const root = document.documentElement;
            return {
                page: root.scrollWidth - root.clientWidth,
                list: list.scrollWidth - list.clientWidth,
            };
        }"""
    )
    return overflow


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1024, 768), (390, 844)])
def test_the_jobs_list_never_scrolls_sideways(
    page: Page, server: Server, width: int, height: int
) -> None:
    welcome = SendWelcomeEmail.create(email="ada@example.com", description="welcome ada")
    resize = ResizeImages.create(album="Holidays 2026", description=LONG_DESCRIPTION)
    get_store().claim_job(resize.id, "host:1")  # type: ignore[arg-type]
    page.set_viewport_size({"width": width, "height": height})

    page.goto(f"{server.url}/jobs")
    link = page.get_by_role("link", name=f"{welcome.class_name} job #{welcome.id}")
    expect(link).to_have_attribute("title", "rocketjob.mission_control.demo.SendWelcomeEmail")
    expect(link.locator(".short")).to_have_text("SendWelcomeEmail")
    expect(page.locator(f'tr[data-job-id="{resize.id}"] progress')).to_be_visible()
    assert horizontal_overflow(page) == {"page": 0, "list": 0}

    progress = page.locator(f'tr[data-job-id="{resize.id}"] progress').bounding_box()
    assert progress is not None and progress["x"] + progress["width"] <= width
    if width >= 1024:  # the short name is whole, not cut by an ellipsis
        short = link.locator(".short")
        assert short.evaluate("e => e.scrollWidth <= e.clientWidth")
        box = short.bounding_box()
        assert box is not None and box["width"] > 0
