"""The store keeps to the database server's clock, whatever this host's says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rocketjob.store.clock import DatabaseClock, host_now


def test_the_offset_is_read_from_a_quick_round_trip() -> None:
    clock = DatabaseClock()
    sent = host_now()
    received = sent + timedelta(milliseconds=2)
    server = sent + timedelta(seconds=120, milliseconds=1)  # the server is 2 min ahead
    assert clock.learn(server, sent, received)
    assert clock.offset == timedelta(seconds=120)
    assert abs(clock() - (host_now() + timedelta(seconds=120))) < timedelta(seconds=1)


def test_a_slow_round_trip_teaches_nothing() -> None:
    clock = DatabaseClock()
    sent = datetime(2026, 1, 1, tzinfo=UTC)
    assert not clock.learn(sent + timedelta(minutes=5), sent, sent + timedelta(seconds=1))
    assert clock.offset == timedelta(0)
