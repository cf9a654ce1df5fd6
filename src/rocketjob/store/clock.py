"""Whose clock the store keeps: the database server's, wherever the process runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# A round trip slower than this says little about when the server read its clock.
MAX_ROUND_TRIP = timedelta(milliseconds=50)


def host_now() -> datetime:
    return datetime.now(UTC)


class DatabaseClock:
    """This host's clock, set right by how far it is from the database server's.

    Workers on several hosts compare the times they write (heartbeats, claims, run_at)
    with each other's: a host whose clock is a minute ahead would otherwise find every
    other worker dead, and claim jobs scheduled for a minute from now.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return host_now() + self.offset

    def learn(self, database_now: datetime, sent: datetime, received: datetime) -> bool:
        """The server read `database_now` between `sent` and `received` (host times);
        False if the round trip was too slow to tell."""
        trip = received - sent
        if trip > MAX_ROUND_TRIP:
            return False
        self.offset = database_now - (sent + trip / 2)
        return True
