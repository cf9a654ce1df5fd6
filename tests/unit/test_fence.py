"""The fence: when a worker may start what it claimed without asking the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rocketjob.worker.fence import Fence

START = datetime(2026, 1, 1, tzinfo=UTC)
TIMEOUT = timedelta(seconds=30)


class Clocks:
    """The store's clock and the process's monotonic clock, moved on together."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds

    def pass_(self, seconds: float) -> None:
        self.seconds += seconds


def fence(clocks: Clocks) -> Fence:
    return Fence(TIMEOUT, clocks.now, lambda: False, monotonic=clocks.monotonic)


def beat(fence: Fence, clocks: Clocks, *, registered: bool = True) -> None:
    fence.vouch(clocks.monotonic(), registered=registered)


def test_a_claim_too_young_for_any_reaper_starts_unasked() -> None:
    clocks = Clocks()
    claimed_at = clocks.now()
    clocks.pass_(14)
    assert fence(clocks).trusts(claimed_at)
    clocks.pass_(2)
    assert not fence(clocks).trusts(claimed_at)


def test_claims_made_while_heartbeats_go_through_start_unasked() -> None:
    clocks = Clocks()
    f = fence(clocks)
    beat(f, clocks)
    claimed_at = clocks.now()
    for _ in range(60):
        clocks.pass_(1)
        beat(f, clocks)
    assert f.trusts(claimed_at)
    assert f.unbroken_for() == timedelta(seconds=60)


def test_after_a_failed_heartbeat_older_claims_are_asked_about() -> None:
    clocks = Clocks()
    f = fence(clocks)
    beat(f, clocks)
    claimed_at = clocks.now()
    clocks.pass_(20)
    f.lapse()
    clocks.pass_(1)
    beat(f, clocks)
    assert not f.trusts(claimed_at)
    assert f.unbroken_for() == timedelta(0)
    fresh = clocks.now()
    for _ in range(20):
        clocks.pass_(1)
        beat(f, clocks)
    assert f.trusts(fresh)


def test_a_frozen_process_trusts_nothing_it_claimed_before_the_freeze() -> None:
    clocks = Clocks()
    f = fence(clocks)
    beat(f, clocks)
    claimed_at = clocks.now()
    clocks.pass_(60)  # SIGSTOP, then SIGCONT: no beat in between
    assert not f.trusts(claimed_at)
    beat(f, clocks, registered=False)  # declared dead meanwhile
    assert not f.trusts(claimed_at)


def test_a_beat_held_up_behind_a_lock_breaks_the_watch() -> None:
    clocks = Clocks()
    f = fence(clocks)
    beat(f, clocks)
    clocks.pass_(31)
    sent = clocks.monotonic()
    clocks.pass_(40)  # the statement waited for the lock that long
    f.vouch(sent, registered=True)
    assert f.unbroken_for() == timedelta(0)


def test_a_worker_watches_heartbeats_a_whole_timeout_before_judging_others() -> None:
    clocks = Clocks()
    f = fence(clocks)
    beat(f, clocks)
    for _ in range(29):
        clocks.pass_(1)
        beat(f, clocks)
    assert f.unbroken_for() < TIMEOUT
    clocks.pass_(1)
    beat(f, clocks)
    assert f.unbroken_for() == TIMEOUT
