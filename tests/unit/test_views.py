"""How Mission Control words durations, times and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rocketjob.mission_control.views import (
    compact_count,
    exact_utc,
    format_duration,
    relative_time,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 ms"),
        (0.85, "850 ms"),
        (4.25, "4.2 s"),
        (42, "42 s"),
        (185, "3 min 5 s"),
        (180, "3 min"),
        (2 * 3600 + 600, "2 h 10 min"),
        (3 * 86400 + 4 * 3600 + 59, "3 d 4 h"),
        (-5, "0 ms"),
    ],
)
def test_durations_are_short_and_human(seconds: float, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


def test_relative_times_point_back_or_ahead() -> None:
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert relative_time(now, now) == "just now"
    assert relative_time(now - timedelta(seconds=42), now) == "42 s ago"
    assert relative_time(now - timedelta(minutes=5, seconds=59), now) == "5 min ago"
    assert relative_time(now + timedelta(hours=3, minutes=2), now) == "in 3 h"
    assert relative_time(now - timedelta(days=2, hours=5), now) == "2 d ago"
    assert exact_utc(now) == "2030-01-01 12:00:00 UTC"


def test_counts_stay_short_in_the_sidebar() -> None:
    assert [compact_count(n) for n in (0, 999, 12_345, 123_456, 1_234_567)] == [
        "0",
        "999",
        "12,345",
        "123k",
        "1.2M",
    ]
