"""Cron schedules: read by cronsim, in an IANA time zone, checked when a class is defined."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import rocketjob as rj
from rocketjob.behaviours.cron import Schedule, schedule_of

PARIS = "Europe/Paris"


def test_the_next_occurrence_is_in_the_schedule_s_time_zone() -> None:
    nine_am = Schedule("x.Report", "0 9 * * *", PARIS)
    # 07:30 UTC is 08:30 in Paris in winter: the next 09:00 there is 08:00 UTC
    assert nine_am.next_run(datetime(2026, 1, 15, 7, 30, tzinfo=UTC)) == datetime(
        2026, 1, 15, 8, 0, tzinfo=UTC
    )
    assert nine_am.next_run(datetime(2026, 7, 15, 7, 30, tzinfo=UTC)) == datetime(
        2026, 7, 16, 7, 0, tzinfo=UTC
    )


def test_an_hour_skipped_by_daylight_saving_runs_when_the_clock_resumes() -> None:
    # 29 March 2026: Paris goes from 02:00 straight to 03:00
    half_past_two = Schedule("x.Backup", "30 2 * * *", PARIS)
    before = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    first = half_past_two.next_run(before)
    assert first == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 in Paris, summer time
    assert half_past_two.next_run(first) == datetime(2026, 3, 30, 0, 30, tzinfo=UTC)


def test_an_hour_repeated_by_daylight_saving_runs_once() -> None:
    # 25 October 2026: Paris goes from 03:00 back to 02:00; 02:30 happens twice
    half_past_two = Schedule("x.Backup", "30 2 * * *", PARIS)
    first = half_past_two.next_run(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 02:30 (summer time)
    assert half_past_two.next_run(first) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_every_five_minutes_across_the_change_keeps_its_rhythm_in_utc() -> None:
    every_five = Schedule("x.Poll", "*/5 * * * *", PARIS)
    at = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)
    runs = []
    for _ in range(6):
        at = every_five.next_run(at)
        runs.append(at.strftime("%H:%M"))
    assert runs == ["00:55", "01:00", "01:05", "01:10", "01:15", "01:20"]


def test_a_schedule_reads_in_words() -> None:
    assert Schedule("x.Y", "*/5 9-17 * * MON-FRI", "UTC").in_words() == (
        "Every fifth minute from 09:00 through 17:59 on Monday through Friday"
    )


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({"cron": "61 * * * *"}, "cron: '61 * * * *': Bad minute"),
        ({"cron": "* * * *"}, "cron: must be 5 fields (minute hour day month weekday), or 6"),
        ({"cron": "0 0 0 * * * *"}, "cron: must be 5 fields"),
        ({"cron": "61 * * * * *"}, "cron: '61 * * * * *': Bad second"),
        ({"cron": "0 9 * * *", "cron_timezone": "Mars/Olympus"}, "cron_timezone: not an IANA"),
        ({"cron": "0 9 * * *", "__annotations__": {"account": "int"}}, "every field needs a"),
    ],
)
def test_a_schedule_that_cannot_work_is_refused_when_the_class_is_defined(
    attributes: dict[str, object], problem: str
) -> None:
    with pytest.raises(rj.ValidationError) as refused:
        type("Nightly", (rj.Job,), {**attributes, "__module__": __name__})
    assert "cron settings of" in str(refused.value)
    assert "Nightly" in str(refused.value)
    assert problem in str(refused.value)


def test_a_schedule_may_give_seconds_first() -> None:
    class EveryTenSeconds(rj.Job):
        cron = "*/10 * * * * *"

        def perform(self) -> None: ...

    schedule = schedule_of(EveryTenSeconds)
    assert schedule is not None
    after = datetime(2026, 1, 1, 12, 0, 3, tzinfo=UTC)
    assert schedule.next_run(after) == datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
