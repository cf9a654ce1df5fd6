"""The event loop of a worker process: its async jobs run there, up to `slots` at once.

One thread runs the loop. Claimed async jobs wait in a queue the worker can take back
from (pausing or stopping, it hands them back), as on the threads. A job starts only once
the worker still holds it: the fence's quick answer on the loop, the database's (when in
doubt) on a thread, so a lapse that makes the worker wait never stalls the other jobs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rocketjob.behaviours.asynchronous import EXECUTOR_THREADS
from rocketjob.execution import Outcome, Result, aperform_claimed
from rocketjob.jobs import Job
from rocketjob.store import Claim

log = logging.getLogger("rocketjob.job")

AsyncWork = tuple[Job, Claim]
# A runner whose jobs never wait hands the loop back after this many.
YIELD_EVERY = 64


class EventLoop:
    """Async jobs on one event loop; outcomes go where the threads put theirs."""

    def __init__(
        self,
        slots: int,
        worker_name: str,
        put_outcome: Callable[[Outcome], None],
        on_outcome: Callable[[], None],
        trusted: Callable[[AsyncWork], bool],
        may_start: Callable[[AsyncWork], bool],
    ) -> None:
        self.slots = slots
        self.worker_name = worker_name
        self._put_outcome = put_outcome
        self._on_outcome = on_outcome
        self._trusted = trusted
        self._may_start = may_start
        self._loop: asyncio.AbstractEventLoop | None = None  # made by start()
        self._lock = threading.Lock()
        self._waiting: deque[AsyncWork] = deque()
        self._running: dict[int, AsyncWork] = {}  # claim id -> its work
        self._tasks: set[asyncio.Task[None]] = set()
        self._unfinished = 0
        self._fill_due = False  # a call to _fill is on its way to the loop
        self._runners = 0  # tasks taking waiting jobs, at most one per slot
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        executor = ThreadPoolExecutor(EXECUTOR_THREADS, thread_name_prefix="rocketjob-async")
        loop.set_default_executor(executor)
        self._thread = threading.Thread(target=self._run_loop, name="rocketjob-event-loop")
        self._thread.daemon = True
        self._thread.start()
        loop.call_soon_threadsafe(self._fill)  # what was submitted before

    def _run_loop(self) -> None:
        assert self._loop is not None
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def submit(self, work: AsyncWork) -> None:
        with self._lock:
            self._unfinished += 1
            self._waiting.append(work)
            wake, self._fill_due = not self._fill_due, True
        if wake and self._loop is not None:  # one wake-up for many claims, not one per job
            self._loop.call_soon_threadsafe(self._fill)

    @property
    def unfinished(self) -> int:
        with self._lock:
            return self._unfinished

    def running(self) -> list[AsyncWork]:
        with self._lock:
            return list(self._running.values())

    def take_back_waiting(self) -> list[AsyncWork]:
        """The async jobs not started yet; they will not be run here."""
        with self._lock:
            taken = list(self._waiting)
            self._waiting.clear()
            self._unfinished -= len(taken)
        return taken

    def stop(self, timeout: float | None = None) -> bool:
        """Cancels the jobs still running (the worker handed them back) and ends the loop;
        False if the loop still runs after `timeout`."""
        if self._thread is None or self._loop is None:
            return True
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._cancel_all)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- on the loop ----------------------------------------------------------------------

    def _fill(self) -> None:
        # Runners, up to one per slot, each running waiting jobs one after the other: a
        # task per runner, not per job, which is what a drain of short jobs pays for.
        with self._lock:
            self._fill_due = False
            starting = min(len(self._waiting), self.slots - self._runners)
            self._runners += starting
        for _ in range(starting):
            task = asyncio.get_running_loop().create_task(self._runner())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _runner(self) -> None:
        ran = 0
        while True:
            with self._lock:
                if not self._waiting:
                    self._runners -= 1
                    return
                work = self._waiting.popleft()
                self._running[work[1].id] = work
            await self._run(work)
            ran += 1
            if ran % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # jobs that never wait still let the loop go round

    async def _run(self, work: AsyncWork) -> None:
        job, claim = work
        try:
            held = self._trusted(work) or await asyncio.get_running_loop().run_in_executor(
                None, self._may_start, work
            )
            if held:
                if log.isEnabledFor(logging.INFO):
                    log.info("job %s %s started", job.id, job.class_name)
                outcome = await aperform_claimed(job, claim, self.worker_name)
            else:
                outcome = Outcome(job, claim, Result.LOST, 0.0)
        except asyncio.CancelledError:  # handed back by a stopping worker: nothing to record
            self._finished(claim)
            raise
        self._put_outcome(outcome)
        self._finished(claim)
        self._on_outcome()

    def _finished(self, claim: Claim) -> None:
        with self._lock:
            del self._running[claim.id]
            self._unfinished -= 1

    def _cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)
