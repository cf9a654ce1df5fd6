"""Processing windows: when they are open, when they open next, and what they refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import rocketjob as rj


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_window_is_open_from_each_opening_for_its_duration() -> None:
    night = rj.Window("0 22 * * *", hours=6)
    assert not night.is_open(utc(2026, 12, 3, 21, 59, 59))
    assert night.is_open(utc(2026, 12, 3, 22, 0, 0))
    assert night.is_open(utc(2026, 12, 4, 3, 59, 59))  # past midnight, the same window
    assert not night.is_open(utc(2026, 12, 4, 4, 0, 0))
    assert night.next_opening(utc(2026, 12, 4, 4, 0)) == utc(2026, 12, 4, 22, 0)
    assert night.first_chance(utc(2026, 12, 4, 1, 0)) == utc(2026, 12, 4, 1, 0)
    assert night.first_chance(utc(2026, 12, 4, 12, 0)) == utc(2026, 12, 4, 22, 0)


def test_a_window_is_read_in_its_time_zone_across_a_dst_change() -> None:
    # 22:00 in Paris is 21:00 UTC in winter and 20:00 UTC in summer.
    paris = rj.Window("0 22 * * *", hours=1, minutes=30, timezone="Europe/Paris")
    assert paris.is_open(utc(2026, 3, 28, 21, 0))  # winter
    assert not paris.is_open(utc(2026, 3, 29, 19, 59))
    assert paris.is_open(utc(2026, 3, 29, 20, 0))  # summer from 29 March
    assert paris.next_opening(utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 20, 0)
    assert paris.closed_message(utc(2026, 3, 29, 12, 0)) == (
        "outside its processing window; opens at 2026-03-29 22:00 Europe/Paris"
    )
    assert paris.describe() == "At 22:00 every day, for 1 h 30 min (Europe/Paris)"


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({"cron": "0 22 * * *"}, "hours", "needs a duration"),
        ({"cron": "0 22 * * *", "hours": -1}, "hours", "needs a duration"),
        ({"cron": "0 22 * *", "hours": 1}, "cron", "5 fields"),
        ({"cron": "0 25 * * *", "hours": 1}, "cron", "'0 25 * * *'"),
        ({"cron": "0 22 * * *", "hours": 1, "timezone": "Mars/Olympus"}, "timezone", "IANA"),
    ],
)
def test_a_window_that_cannot_work_is_refused_naming_the_field(
    arguments: dict[str, object], field: str, words: str
) -> None:
    with pytest.raises(rj.ValidationError) as refused:
        rj.Window(**arguments)  # type: ignore[arg-type]
    assert [f for f, _ in refused.value.errors] == [field]
    assert words in refused.value.errors[0][1]


def test_a_class_whose_window_is_not_a_window_is_refused_at_definition() -> None:
    with pytest.raises(rj.ValidationError) as refused:

        class Nightly(rj.Job):
            processing_window = "0 22 * * *"  # type: ignore[assignment]

            def perform(self) -> None:
                pass

    assert refused.value.errors[0][0] == "processing_window"
