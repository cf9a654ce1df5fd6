"""One worker process: a claim loop feeding N threads, recording their outcomes in batches."""

from __future__ import annotations

import logging
import queue
import threading
import time

from rocketjob.batch.lifecycle import BatchOutcome, run_batch_job, settle_batches
from rocketjob.batch.processing import SliceWork, claim_slices
from rocketjob.config import get_store
from rocketjob.execution import Outcome, Result, load_claimed, log_outcome, perform_claimed
from rocketjob.jobs import Job, process_name
from rocketjob.store import Claim, Finished, Row, Store

log = logging.getLogger("rocketjob.worker")

# A claimed job, or a slice of a batch job.
Work = tuple[Job, Claim] | SliceWork


class Worker:
    """Claims due jobs by priority, runs them on `threads` threads, records the outcomes.

    `run()` loops until stopped (or, with `burst`, until nothing is left to do);
    `run_once()` does one claim-and-record round, for tests and embedding.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        threads: int = 10,
        burst: bool = False,
        poll_interval: float = 1.0,
        store: Store | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError("a worker needs at least one thread")
        self.store = store or get_store()
        self.name = name or process_name()
        self.threads = threads
        self.burst = burst
        self.poll_interval = poll_interval
        self._work: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[Outcome | BatchOutcome] = queue.SimpleQueue()
        self._swept_at = 0.0
        self._busy = 0
        self._stopping = threading.Event()
        self._pool: list[threading.Thread] = []

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        log.info("worker %s started with %d threads", self.name, self.threads)
        self._start_threads()
        try:
            while not self._stopping.is_set():
                claimed = self.run_once()
                if self.burst and claimed == 0 and self._busy == 0:
                    break
                if claimed == 0 or self._busy >= self.threads:
                    self._wait_for_outcome(self.poll_interval)
        finally:
            self._stop_threads()
            self._record(self._take_outcomes())
            log.info("worker %s stopped", self.name)

    def stop(self) -> None:
        """Asks the loop to finish: running jobs complete, nothing new is claimed."""
        self._stopping.set()

    def run_once(self) -> int:
        """Records finished jobs and claims as many as there are idle threads.

        Due jobs are claimed first, then slices of batch jobs: a slice is short, so a job
        queued meanwhile waits at most one slice for a thread.
        """
        self._record(self._take_outcomes())
        if not self._pool:
            self._start_threads()
        free = self.threads - self._busy
        if free <= 0:
            return 0
        rows = self.store.claim_jobs(self.name, free)
        for row in rows:
            self._dispatch(row)
        slices = claim_slices(self.store, self.name, free - len(rows)) if free > len(rows) else []
        for item in slices:
            self._busy += 1
            self._work.put(item)
        claimed = len(rows) + len(slices)
        if claimed == 0:
            claimed = self._sweep_batches()
        return claimed

    def _sweep_batches(self) -> int:
        """Now and then, finishes batch jobs whose last slice's worker could not."""
        if time.monotonic() - self._swept_at < self.poll_interval:
            return 0
        self._swept_at = time.monotonic()
        held = settle_batches(self.store, self.name)
        for job, claim in held:
            self._busy += 1
            self._work.put((job, claim))
        return len(held)

    def _dispatch(self, row: Row) -> None:
        job, claim = load_claimed(row)
        expires_at = job.expires_at
        if expires_at is not None and expires_at <= self.store.now():
            log.info(
                "job %s %s expired at %s: destroyed, not run",
                job.id,
                job.class_name,
                expires_at.isoformat(),
            )
            self.store.finish_jobs([Finished(claim, keep=False)], self.name)
            return
        self._busy += 1
        self._work.put((job, claim))

    # -- threads --------------------------------------------------------------------------

    def _start_threads(self) -> None:
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._thread_loop, name=f"rocketjob-{index}", daemon=True
            )
            thread.start()
            self._pool.append(thread)

    def _stop_threads(self) -> None:
        for _ in self._pool:
            self._work.put(None)
        for thread in self._pool:
            thread.join()
        self._pool.clear()

    def _thread_loop(self) -> None:
        while (work := self._work.get()) is not None:
            self._done.put(self._perform(work))

    def _perform(self, work: Work) -> Outcome | BatchOutcome:
        if isinstance(work, SliceWork):
            return work.run()
        job, claim = work
        if job.batch:  # its before or after step; everything is recorded on this thread
            return run_batch_job(job, claim, self.name)
        return perform_claimed(job, claim, self.name)

    # -- outcomes -------------------------------------------------------------------------

    def _wait_for_outcome(self, timeout: float) -> None:
        try:
            outcome: Outcome | BatchOutcome = self._done.get(timeout=timeout)
        except queue.Empty:
            return
        self._done.put(outcome)  # recorded with the others by the next round

    def _take_outcomes(self) -> list[Outcome | BatchOutcome]:
        outcomes = []
        while True:
            try:
                outcomes.append(self._done.get_nowait())
            except queue.Empty:
                break
        self._busy -= len(outcomes)
        return outcomes

    def _record(self, taken: list[Outcome | BatchOutcome]) -> None:
        outcomes = []
        for outcome in taken:
            if isinstance(outcome, BatchOutcome):
                outcome.log()  # recorded already, by the thread that ran it
            else:
                outcomes.append(outcome)
        if not outcomes:
            return
        completed = [
            Finished(o.claim, keep=not o.job.destroy_on_complete)
            for o in outcomes
            if o.result is Result.COMPLETED
        ]
        if completed:
            self.store.finish_jobs(completed, self.name)
        for outcome in outcomes:
            if outcome.result is Result.FAILED and outcome.exception is not None:
                self.store.fail_claimed_job(outcome.claim, outcome.exception.to_json(), self.name)
            log_outcome(outcome)
