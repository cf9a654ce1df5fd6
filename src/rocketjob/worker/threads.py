"""The threads of a worker process: they take claimed work from a queue and run it."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from rocketjob.batch.lifecycle import BatchOutcome, run_batch_job
from rocketjob.batch.processing import SliceWork
from rocketjob.execution import Outcome, Result, perform_claimed
from rocketjob.jobs import Job
from rocketjob.store import Claim

if TYPE_CHECKING:
    from rocketjob.worker.event_loop import AsyncWork, EventLoop

log = logging.getLogger("rocketjob.job")

# A claimed job, or a claimed slice of a batch job.
Work = tuple[Job, Claim] | SliceWork
Done = Outcome | BatchOutcome
# A thread that finished a slice claims the next one itself for this long, then goes back
# to the loop, which claims due jobs first: how long a more urgent job may wait.
SLICE_RUN_SECONDS = 0.5


def not_started(work: Work) -> Done:
    """The outcome of work this worker no longer holds: another worker took it over."""
    if isinstance(work, SliceWork):
        return work.lost()
    job, claim = work
    return Outcome(job, claim, Result.LOST, 0.0)


def perform(work: Work, worker_name: str) -> Done:
    """Runs one piece of claimed work; batch work records its own outcome as it goes."""
    if isinstance(work, SliceWork):
        return work.run()
    job, claim = work
    if job.batch:  # its before or after step
        return run_batch_job(job, claim, worker_name)
    return perform_claimed(job, claim, worker_name)


class Threads:
    """N threads running claimed jobs; outcomes pile up until the loop takes them.

    Work waits in a queue the loop can take back from (a pausing or stopping worker hands
    un-started jobs back to the database). Given an event loop, async jobs go there.
    """

    def __init__(
        self,
        count: int,
        worker_name: str,
        on_outcome: Callable[[], None],
        next_slice: Callable[[], SliceWork | None] = lambda: None,
        may_start: Callable[[Work], bool] = lambda work: True,
    ) -> None:
        self.count = count
        self.worker_name = worker_name
        self._on_outcome = on_outcome
        self._next_slice = next_slice
        self._may_start = may_start
        self._waiting: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self._outcomes: deque[Done] = deque()
        self._lock = threading.Lock()
        self._running: dict[int, Work] = {}  # thread index -> what it runs now
        self._unfinished = 0  # submitted, and neither finished nor taken back
        self._threads: list[threading.Thread] = []
        self.event_loop: EventLoop | None = None

    def run_async_jobs(self, slots: int, trusted: Callable[[AsyncWork], bool]) -> None:
        """Runs async jobs on an event loop, `slots` at once; `trusted` is may_start's
        answer when it needs no database."""
        from rocketjob.worker.event_loop import EventLoop  # asyncio, only where needed

        self.event_loop = EventLoop(
            slots,
            self.worker_name,
            self._outcomes.append,
            self._on_outcome,
            trusted,
            self._may_start,
        )

    @property
    def slots(self) -> int:
        """How much work may run at once: threads, and event loop slots."""
        return self.count + (self.event_loop.slots if self.event_loop else 0)

    @property
    def idle(self) -> int:
        """Threads with nothing to do (slices of batch jobs run on threads only)."""
        with self._lock:
            return self.count - self._unfinished

    def start(self) -> None:
        if self.event_loop is not None:
            self.event_loop.start()
        for index in range(self.count):
            thread = threading.Thread(
                target=self._loop, args=(index,), name=f"rocketjob-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, work: Work) -> None:
        if self.event_loop and not isinstance(work, SliceWork) and type(work[0])._async_perform:
            self.event_loop.submit(work)
            return
        with self._lock:
            self._unfinished += 1
        self._waiting.put(work)

    @property
    def unfinished(self) -> int:
        """Work submitted and not yet finished (waiting or running)."""
        with self._lock:
            unfinished = self._unfinished
        return unfinished + (self.event_loop.unfinished if self.event_loop else 0)

    def running(self) -> list[Work]:
        with self._lock:
            running = list(self._running.values())
        return running + (self.event_loop.running() if self.event_loop else [])

    def take_back_waiting(self) -> list[Work]:
        """The work no thread has started yet; it will not be run here."""
        taken: list[Work] = [*(self.event_loop.take_back_waiting() if self.event_loop else [])]
        while True:
            try:
                work = self._waiting.get_nowait()
            except queue.Empty:
                return taken
            if work is not None:
                taken.append(work)
                with self._lock:
                    self._unfinished -= 1

    def take_outcomes(self) -> list[Done]:
        outcomes = []
        while self._outcomes:
            outcomes.append(self._outcomes.popleft())
        return outcomes

    def stop(self, timeout: float | None = None) -> bool:
        """Lets the threads finish what they run; False if some still run after `timeout`.
        Async jobs still running are cancelled: the worker handed them back."""
        if self.event_loop is not None:
            self.event_loop.stop(timeout)
        for _ in self._threads:
            self._waiting.put(None)
        for thread in self._threads:
            thread.join(timeout)
        alive = any(thread.is_alive() for thread in self._threads)
        if not alive:
            self._threads.clear()
        return not alive

    def _loop(self, index: int) -> None:
        while (work := self._waiting.get()) is not None:
            with self._lock:
                self._running[index] = work
            if not self._may_start(work):
                outcome = not_started(work)
            else:
                if log.isEnabledFor(logging.INFO) and not isinstance(work, SliceWork):
                    log.info("job %s %s started", work[0].id, work[0].class_name)
                outcome = perform(work, self.worker_name)
                if isinstance(work, SliceWork):
                    outcome = self._more_slices(index, outcome)
            self._outcomes.append(outcome)
            with self._lock:
                del self._running[index]
                self._unfinished -= 1
            self._on_outcome()

    def _more_slices(self, index: int, outcome: Done) -> Done:
        """Runs further slices on this thread for a short while; the last one's outcome."""
        until = time.monotonic() + SLICE_RUN_SECONDS
        while time.monotonic() < until and (work := self._next_slice()) is not None:
            with self._lock:
                self._running[index] = work
            self._outcomes.append(outcome)
            outcome = work.run()
        return outcome
