"""A worker's pulse: reports it alive, learns what operators asked, reaps dead workers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from rocketjob.batch.lifecycle import reap_slices
from rocketjob.errors import DatabaseUnavailable
from rocketjob.store import Store
from rocketjob.worker.fence import Fence

log = logging.getLogger("rocketjob.worker")

# Folding the per-statement count deltas keeps reading the counts cheap.
COMPACT_EVERY = 10.0


class Heartbeat:
    """Every `interval` (and at once when notified): heartbeat, then obey, then reap.

    `state()` says what to report; `obey(desired)` receives what operators asked;
    `register()` puts the worker's row back if it was reaped while this process was
    frozen or cut off. Each beat that goes through vouches to `fence` that what the
    worker claimed is still its own.

    A worker judges others by their heartbeats only once it has itself seen them, beat
    after beat, for a whole zombie timeout: after its own connection was lost, or its
    process frozen, every heartbeat looks old, including those of healthy workers that
    could not reach the database either.
    """

    def __init__(
        self,
        store: Store,
        name: str,
        *,
        state: Callable[[], str],
        obey: Callable[[str | None], None],
        register: Callable[[], None],
        interval: float,
        zombie_timeout: timedelta,
        fence: Fence,
    ) -> None:
        self.store = store
        self.name = name
        self._state = state
        self._obey = obey
        self._register = register
        self.interval = interval
        self.zombie_timeout = zombie_timeout
        self.fence = fence
        self._reap_every = max(interval, zombie_timeout.total_seconds() / 3)
        # A worker's offer of hand-offs lapses unless beats renew it: one that freezes or
        # loses the database stops receiving jobs within a few beats.
        self.offer_lapse = timedelta(seconds=max(3 * interval, 1.0))
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rocketjob-heartbeat", daemon=True)
        self._reaped_at = self._compacted_at = 0.0
        self._unavailable = False

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Beat now (an operator's request was notified)."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            try:
                self.beat()
                self._unavailable = False
            except DatabaseUnavailable as error:
                self.fence.lapse()
                if not self._unavailable:
                    log.warning("heartbeat failed, retrying: %s", error)
                self._unavailable = True
            self._wake.wait(self.interval)
            self._wake.clear()

    def beat(self) -> None:
        sent = time.monotonic()
        registered, desired = self.store.heartbeat(
            self.name, self._state(), offer_lapse=self.offer_lapse
        )
        self.fence.vouch(sent, registered=registered)
        if not registered:
            log.warning(
                "worker %s was declared dead (silent for over %s s): registering again; "
                "the jobs it held went back to the queue",
                self.name,
                self.zombie_timeout.total_seconds(),
            )
            self._register()
        self._obey(desired)
        now = time.monotonic()
        if now - self._reaped_at >= self._reap_every and self.sees_heartbeats():
            self._reaped_at = now
            self.reap()
        if now - self._compacted_at >= COMPACT_EVERY:
            self._compacted_at = now
            self.store.compact_counts()

    def sees_heartbeats(self) -> bool:
        """Whether this worker has watched heartbeats long enough to call one missing."""
        return self.fence.unbroken_for() >= self.zombie_timeout

    def reap(self) -> None:
        requeued, dead = self.store.reap_dead_workers(self.zombie_timeout, by=self.name)
        for name in dead:
            log.warning("worker %s stopped heartbeating: removed", name)
        for row in requeued:
            log.warning(
                "job %s %s requeued: its worker stopped heartbeating", row["id"], row["class_name"]
            )
        reap_slices(self.store, self.zombie_timeout, self.name)
