"""Whether a worker still holds what it claimed: asked of the database only when in doubt.

The reaper requeues a running job (or slice) only once it started over a zombie timeout
ago and its worker's heartbeat is that old too. So a claim younger than that is safe, and
so is any claim made while this worker's heartbeats went through without a lapse. After a
lapse (the database was out of reach, the process was frozen, the worker was declared
dead) an older claim is checked against the database before it starts: one that another
worker took over meanwhile is dropped here, never run a second time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from rocketjob.errors import DatabaseUnavailable

log = logging.getLogger("rocketjob.worker")

# Longest wait between two looks at an unreachable database before a start.
MAX_CHECK_WAIT = 2.0


class Fence:
    """Vouched for by the heartbeat thread; asked by the job threads before each start.

    Times of claims and beats are the store's (the database's) clock; `vouched_until` is
    this process's monotonic clock, which keeps running while the process is frozen.
    """

    def __init__(
        self,
        zombie_timeout: timedelta,
        now: Callable[[], datetime],
        stopping: Callable[[], bool],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        # Half the timeout leaves room for clocks that disagree a little.
        self.margin = zombie_timeout / 2
        self._now = now
        self._stopping = stopping
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._vouched_until = 0.0  # monotonic: until when the last beat vouches
        self._since: datetime | None = None  # when the current run of beats began

    def vouch(self, sent: float, *, registered: bool) -> None:
        """A heartbeat sent at `sent` (monotonic) went through; `registered`: its row was
        still there (False: it had been declared dead)."""
        received = self._monotonic()
        with self._lock:
            lapsed = (
                not registered
                or self._since is None
                or sent > self._vouched_until  # no beat went through for a while
                or received - sent > self.margin.total_seconds()  # this one was held up
            )
            if lapsed:
                self._since = self._now()  # claims before now are in doubt
            self._vouched_until = sent + self.margin.total_seconds()

    def lapse(self) -> None:
        """A heartbeat failed: claims made until now are in doubt."""
        with self._lock:
            self._vouched_until = 0.0
            self._since = None

    def unbroken_for(self) -> timedelta:
        """How long this worker's heartbeats have gone through without a lapse: for that
        long it saw every other worker's heartbeats as the database received them."""
        with self._lock:
            since = self._since
            vouched = self._monotonic() < self._vouched_until
        if since is None or not vouched:
            return timedelta(0)
        return self._now() - since

    def trusts(self, claimed_at: datetime | None) -> bool:
        """Whether a claim made at `claimed_at` may start without asking the database."""
        if claimed_at is None:
            return False
        # Read without the lock (on every start): each field is read whole, and a vouch
        # read stale still holds until the time it names.
        since = self._since
        if since is not None and claimed_at >= since and self._monotonic() < self._vouched_until:
            return True
        return self._now() - claimed_at < self.margin  # too young for any reaper

    def holds(self, ask: Callable[[], bool], what: str) -> bool:
        """Asks the database whether `what` is still held; waits while it cannot say.

        Gives up (False) only when the worker stops meanwhile: the reaper then requeues
        what was not started."""
        wait = 0.1
        while True:
            try:
                held = ask()
            except DatabaseUnavailable as error:
                if self._stopping():
                    log.warning("%s not started: the worker stops and cannot check it", what)
                    return False
                log.warning("cannot check that %s is still held: %s", what, error)
                time.sleep(wait)
                wait = min(wait * 2, MAX_CHECK_WAIT)
                continue
            if not held:
                log.warning("%s not started: another worker holds it now", what)
            return held
