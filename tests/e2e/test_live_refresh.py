"""Live refresh asks the server for fresh fragments only while the tab is visible, and
never replaces the page under an operator who is confirming an action.

The page's timers run on Playwright's clock, so minutes pass in an instant and nothing
waits on the wall clock; the tab's visibility is what the page reads from the document.
"""

from __future__ import annotations

import pytest
from browsing import Server, confirm
from playwright.sync_api import Page, Request, Route, expect
from processes import wait_until
from sample_jobs import Noop

import rocketjob as rj

pytestmark = pytest.mark.e2e
REFRESH_MS = 2000

SET_VISIBILITY = """hidden => {
    const state = hidden ? "hidden" : "visible";
    for (const [name, value] of [["hidden", hidden], ["visibilityState", state]]) {
        Object.defineProperty(document, name, { configurable: true, get: () => value });
    }
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_refresh_pauses_while_the_tab_is_hidden(page: Page, server: Server) -> None:
    log: list[str] = []

    def note(request: Request) -> None:
        if "fragment=1" in request.url:
            log.append("fragment")

    page.on("request", note)
    page.clock.install()
    page.goto(f"{server.url}/jobs")
    status = page.locator("#live-status")
    expect(status).to_have_text("Live")

    # Visible: a fragment every couple of seconds.
    with page.expect_response(lambda r: "fragment=1" in r.url):
        page.clock.run_for(REFRESH_MS)
    with page.expect_response(lambda r: "fragment=1" in r.url):
        page.clock.run_for(REFRESH_MS)
    assert log.count("fragment") == 2

    # Hidden: a minute passes and nothing is asked.
    page.evaluate(SET_VISIBILITY, True)
    expect(status).to_have_text("Paused")
    assert page.evaluate("document.visibilityState") == "hidden"
    log.append("hidden")
    page.clock.run_for(30 * REFRESH_MS)

    # Visible again: one refresh at once, then every couple of seconds again. Anything
    # asked while hidden would have reached the log before this first answer.
    log.append("shown")
    with page.expect_response(lambda r: "fragment=1" in r.url):
        page.evaluate(SET_VISIBILITY, False)
    expect(status).to_have_text("Live")
    assert log[log.index("hidden") :] == ["hidden", "shown", "fragment"]
    with page.expect_response(lambda r: "fragment=1" in r.url):
        page.clock.run_for(REFRESH_MS)
    assert log.count("fragment") == 4


def test_a_refresh_landing_while_the_operator_confirms_leaves_the_action_alone(
    page: Page, server: Server
) -> None:
    job = Noop.create()
    page.clock.install()
    page.goto(f"{server.url}/jobs/{job.id}")
    expect(page.locator("#live-status")).to_have_text("Live")
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(lambda url: "fragment=1" in url, hold)

    page.clock.run_for(REFRESH_MS)  # a refresh asks; its answer is held back
    # (each evaluate is a round trip, in which Playwright hands over the routes it held)
    refreshing = page.locator("body")
    expect(refreshing).to_have_attribute("data-refreshing", "yes")
    wait_until(lambda: page.evaluate("0") == 0 and held, 15, "the held fragment request")
    page.get_by_role("button", name=f"Pause job #{job.id}").click()
    expect(page.locator("#confirm-dialog")).to_be_visible()

    # The answer lands while the dialog is open, then the next refresh comes due.
    answer = held.pop()
    answer.fulfill(response=answer.fetch())
    expect(refreshing).not_to_have_attribute("data-refreshing", "yes")
    page.unroute_all()
    page.clock.run_for(REFRESH_MS)
    expect(refreshing).not_to_have_attribute("data-refreshing", "yes")

    confirm(page, "Pause")
    expect(page.locator(".flash")).to_have_text(f"Paused job #{job.id} (Noop): it is paused.")
    assert job.reload().state is rj.State.PAUSED
