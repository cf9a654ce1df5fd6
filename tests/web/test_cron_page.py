"""The Cron page: each schedule with its next and latest run, and Run now, Pause and Resume
as plain forms (confirmed, CSRF-protected, flash after), on both backends."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from cron_jobs import EveryMinute, NineInParis
from starlette.testclient import TestClient
from test_forms import flash
from webpages import csrf_token, post_form, text_of

import rocketjob as rj
from rocketjob.mission_control import create_app, views
from rocketjob.store import Store
from rocketjob.worker.cron import CronKeeper

START = datetime(2026, 3, 2, 8, 0, 30, tzinfo=UTC)
MINUTE, NINE = "cron_jobs.EveryMinute", "cron_jobs.NineInParis"


@pytest.fixture
def keeper(store: Store) -> CronKeeper:
    """The schedules, as a worker that imports both classes writes them when it starts."""
    store.clock = lambda: START
    keeper = CronKeeper(store, [EveryMinute, NineInParis])
    keeper.sync()
    return keeper


def pending(class_name: str) -> int:
    (info,) = [info for info in rj.list_cron() if info.class_name == class_name]
    assert info.pending_id is not None
    return info.pending_id


def row_of(html: str, class_name: str) -> str:
    start = html.rindex("<tr", 0, html.index(f'data-cron="{class_name}"'))
    return html[start : html.index("</tr>", start)]


def buttons(html: str, class_name: str) -> list[str]:
    return re.findall(rf'aria-label="([\w ]+) {re.escape(class_name)}"', row_of(html, class_name))


def test_each_schedule_in_words_with_its_zone_next_and_latest_run(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    store.clock = lambda: datetime(2026, 3, 2, 8, 1, 2, tzinfo=UTC)
    (ran,) = keeper.claim(lambda: store.claim_jobs("host:1", 1, include="EveryMinute"))
    store.cron_finished(MINUTE, ran["id"], "completed")
    rj.pause_cron(NINE)
    store.clock = lambda: datetime(2026, 3, 2, 8, 1, 5, tzinfo=UTC)

    html = client.get("/cron").text
    minute = text_of(row_of(html, MINUTE))
    assert minute.startswith("cron_jobs.EveryMinute Every minute * * * * * UTC")
    assert "in 55 s 2026-03-02 08:02:00 UTC scheduled" in minute
    assert f"#{ran['id']} completed 3 s ago" in minute
    assert f'href="/jobs/{pending(MINUTE)}"' in row_of(html, MINUTE)  # the waiting job
    assert f'href="/jobs/{ran["id"]}"' in row_of(html, MINUTE)  # its latest run
    assert buttons(html, MINUTE) == ["Run now", "Pause"]

    nine = text_of(row_of(html, NINE))
    assert nine.startswith("cron_jobs.NineInParis At 09:00 every day 0 9 * * * Europe/Paris")
    assert "in 23 h 2026-03-03 08:00:00 UTC paused not run yet" in nine
    assert buttons(html, NINE) == ["Resume"]
    assert '<a href="/cron" aria-current="page">Cron</a>' in html


def test_a_run_gone_from_the_table_is_shown_without_a_link(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    rj.run_cron_now(NINE)
    (ran,) = keeper.claim(lambda: store.claim_jobs("host:1", 1, include="NineInParis"))
    html = client.get("/cron").text
    assert "started just now" in text_of(row_of(html, NINE))
    rj.Job.find(ran["id"]).abort()
    rj.Job.find(ran["id"]).destroy()  # as a completed job of a class that keeps none
    row = row_of(client.get("/cron").text, NINE)
    assert f"#{ran['id']} running" in text_of(row)
    assert f'href="/jobs/{ran["id"]}"' not in row


def test_a_due_job_and_a_schedule_without_one_say_so(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    rj.run_cron_now(MINUTE)
    rj.Job.find(pending(NINE)).destroy()
    html = client.get("/cron").text
    assert "now, when a worker is free due" in text_of(row_of(html, MINUTE))
    assert buttons(html, MINUTE) == ["Pause"]
    assert "when a worker that imports it runs no job waiting" in text_of(row_of(html, NINE))
    assert buttons(html, NINE) == []
    assert "href=" not in row_of(html, NINE)


def test_no_schedule_says_how_to_get_one(client: TestClient) -> None:
    text = text_of(client.get("/cron").text)
    assert (
        'No cron schedules yet. Set cron = "*/5 * * * *" (and cron_timezone, default UTC) on a '
        "job class and start a worker that imports it (rocketjob worker --import myapp.jobs)"
    ) in text


def test_the_cron_fragment_holds_only_the_table(client: TestClient, keeper: CronKeeper) -> None:
    html = client.get("/cron?fragment=1").text
    assert 'id="cron"' in html and MINUTE in html
    assert "<h1>" not in html and 'data-live-url="/cron?fragment=1"' in client.get("/cron").text


def test_pause_asks_first_then_pauses_and_says_so(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    waiting = pending(MINUTE)
    status, page = post_form(client, f"/cron/{MINUTE}/pause", confirmed=False)
    assert status == 200
    assert "Pause cron_jobs.EveryMinute? Nothing of it runs until it is resumed." in text_of(page)
    assert rj.Job.find(waiting).state is rj.State.QUEUED

    status, location = post_form(client, f"/cron/{MINUTE}/pause")
    assert (status, location) == (303, "/cron")
    assert flash(client, location) == "Paused EveryMinute: nothing of it runs until it is resumed."
    assert rj.Job.find(waiting).state is rj.State.PAUSED
    assert buttons(client.get("/cron").text, MINUTE) == ["Resume"]

    _, location = post_form(client, f"/cron/{MINUTE}/resume")
    assert flash(client, location) == "Resumed EveryMinute: next run in 30 s."
    assert rj.Job.find(waiting).state is rj.State.QUEUED


def test_run_now_makes_the_waiting_job_due(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    waiting = pending(NINE)
    _, page = post_form(client, f"/cron/{NINE}/run_now", confirmed=False)
    assert "Run cron_jobs.NineInParis now, ahead of its schedule?" in text_of(page)
    _, location = post_form(client, f"/cron/{NINE}/run_now")
    assert flash(client, location) == (
        f"NineInParis runs now: job #{waiting} starts as soon as a worker is free."
    )
    assert rj.Job.find(waiting).run_at is None
    assert [r["id"] for r in store.claim_jobs("host:1", 5)] == [waiting]


def test_what_cannot_be_done_is_an_error_flash(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    waiting = pending(MINUTE)
    _, location = post_form(client, f"/cron/{MINUTE}/resume")
    assert (location, flash(client, location)) == (
        "/cron",
        f"Cannot resume a queued job: job #{waiting}, the next run of cron_jobs.EveryMinute.",
    )
    _, location = post_form(client, "/cron/cron_jobs.Hourly/pause")
    assert flash(client, location) == (
        "No cron schedule of cron_jobs.Hourly: a schedule is known once a worker that imports "
        "its class has started."
    )
    rj.Job.find(waiting).destroy()
    _, location = post_form(client, f"/cron/{MINUTE}/run_now")
    assert flash(client, location).startswith(
        "Cannot run now cron_jobs.EveryMinute: no job of it is waiting for the next run, as no "
        "worker that imports the class has run since"
    )


def test_cron_forms_need_the_pages_token_and_a_known_action(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    csrf_token(client, "/cron")
    data = {"confirmed": "yes", "csrf_token": "forged"}
    assert client.post(f"/cron/{MINUTE}/pause", data=data).status_code == 403
    assert not rj.list_cron()[0].paused
    status, page = post_form(client, f"/cron/{MINUTE}/destroy")
    assert status == 404
    assert "there is no cron action 'destroy'" in text_of(page)


def test_odd_class_names_get_working_forms(store: Store, client: TestClient) -> None:
    odd = type(
        "Nightly", (rj.Job,), {"__module__": "app/x?y=1&z=#" + "m" * 3000, "cron": "0 3 * * *"}
    )
    CronKeeper(store, [odd]).sync()
    row = row_of(client.get("/cron").text, odd.class_name.replace("&", "&amp;"))
    assert "At 03:00 every day" in text_of(row)
    action = re.search(r'<form method="post" action="([^"]+/pause)"', row)
    assert action is not None
    _, location = post_form(client, unescape(action.group(1)))
    assert (
        flash(client, location)
        == f"Paused {views.short_class(odd.class_name)}: nothing of it runs until it is resumed."
    )
    assert rj.list_cron()[0].paused


def test_the_signed_in_operator_is_recorded(store: Store, keeper: CronKeeper) -> None:
    with TestClient(create_app(users={"alice": "secret"}), follow_redirects=False) as signed_in:
        token = base64.b64encode(b"alice:secret").decode()
        signed_in.headers.update({"authorization": f"Basic {token}"})
        post_form(signed_in, f"/cron/{MINUTE}/pause")
    assert rj.Job.find(pending(MINUTE)).history()[-1].by == "user:alice"


def test_a_time_past_while_paused_runs_on_resume(
    store: Store, client: TestClient, keeper: CronKeeper
) -> None:
    rj.pause_cron(MINUTE)
    store.clock = lambda: START + timedelta(minutes=5)
    assert "when resumed" in text_of(row_of(client.get("/cron").text, MINUTE))
    _, location = post_form(client, f"/cron/{MINUTE}/resume")
    assert flash(client, location) == (
        "Resumed EveryMinute: its missed run starts as soon as a worker is free."
    )
    assert "due 4 min ago" in text_of(row_of(client.get("/cron").text, MINUTE))
