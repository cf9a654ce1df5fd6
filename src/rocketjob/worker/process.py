"""One worker process: a loop that claims jobs for its threads and records what came of them."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import timedelta
from types import FrameType

from rocketjob.batch.lifecycle import BatchOutcome, settle_batches
from rocketjob.batch.processing import SliceWork, claim_slices
from rocketjob.behaviours import retry
from rocketjob.config import get_store
from rocketjob.errors import ConfigurationError, DatabaseUnavailable
from rocketjob.execution import Outcome, Result, UnrunnableJob, load_claimed, log_outcome
from rocketjob.jobs import Job, process_name
from rocketjob.store import Claim, Finished, Handoff, Row, SliceClaim, Store
from rocketjob.worker.control import ZOMBIE_TIMEOUT
from rocketjob.worker.cron import CronKeeper
from rocketjob.worker.fence import Fence
from rocketjob.worker.heartbeat import Heartbeat
from rocketjob.worker.threads import Threads, Work
from rocketjob.worker.throttles import ThrottledClaims

log = logging.getLogger("rocketjob.worker")

# Idle polling starts this fast after activity and backs off to the poll interval.
FIRST_IDLE_WAIT = 0.01
# Outcomes are recorded in batches: at this many, or once the oldest is this old.
RECORD_BATCH = 200
RECORD_DELAY = 0.005
# Jobs claimed ahead of free threads: enough for about this much work per thread, so fast
# jobs are claimed in big batches while a newly urgent job waits at most this long.
PREFETCH_WINDOW = 0.01
MAX_PREFETCH = 1000
# Backoff while the database is unreachable.
MAX_OUTAGE_WAIT = 5.0
# While it offers hand-offs, a worker also looks this often for jobs handed to it whose
# notice it missed (notices are lost only with the listening connection, which says so).
RESCUE_EVERY = 10.0


class Worker:
    """Claims due jobs by priority, runs them on `threads` threads, records the outcomes.

    Obeys operators (pause, resume, stop via its row in the workers table) and signals
    (SIGTERM/SIGINT: finish or hand back current work and exit; a second one: hand
    everything back now). `burst` exits when nothing is left to do.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        threads: int = 10,
        burst: bool = False,
        poll_interval: float = 1.0,
        include: str | None = None,
        exclude: str | None = None,
        zombie_timeout: timedelta = ZOMBIE_TIMEOUT,
        heartbeat_interval: float = 1.0,
        stop_timeout: float = 30.0,
        store: Store | None = None,
    ) -> None:
        if threads < 1:
            raise ConfigurationError("a worker needs at least one thread")
        for option, pattern in (("--include", include), ("--exclude", exclude)):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as error:
                    raise ConfigurationError(f"{option} {pattern!r}: {error}") from None
        if name is not None and (not name.strip() or not name.isprintable()):
            raise ConfigurationError(f"--name {name!r}: use printable characters")
        self.store = store or get_store()
        self.name = name or process_name()
        self.threads = threads
        self.burst = burst
        self.poll_interval = poll_interval
        self.include, self.exclude = include, exclude
        self.zombie_timeout = zombie_timeout
        self.heartbeat_interval = heartbeat_interval
        self.stop_timeout = stop_timeout
        self.state = "starting"
        self._desired: str | None = None
        self._signals = 0
        self._wake = threading.Event()
        self._fence = Fence(zombie_timeout, self.store.now, lambda: self.state == "stopping")
        self._cron = CronKeeper.of_worker(self.store, include, exclude)
        self._throttled = ThrottledClaims.of_worker(
            self.store, self.name, include=include, exclude=exclude, poll_interval=poll_interval
        )
        self._threads = Threads(
            threads,
            self.name,
            on_outcome=self._outcome_ready,
            next_slice=self._next_slice,
            may_start=self._may_start,
        )
        self._to_record: list[Outcome] = []
        self._oldest_unrecorded = 0.0
        self._job_seconds = 0.1  # moving average of how long a job takes here
        self._refill_at = threads - 1
        self._outage_wait = 0.0
        self._swept_at = 0.0
        # Hand-offs: jobs create() claimed for this worker, announced by notices. The
        # listening thread starts them itself; `_lock` keeps it and the loop from starting
        # one twice, and from starting one once the worker left `running`.
        self._lock = threading.Lock()
        self._holding: set[int] = set()  # jobs claimed here and not yet recorded
        self._offered = 0  # slots offered at the last offer...
        self._received = self._received_then = 0  # ...and hand-offs received, then and now
        self._handed: deque[Handoff] = deque()  # notices left to the loop
        self._rescued: set[int] = set()  # found without their notice, which may yet come
        self._rescue_at = 0.0  # when to look for hand-offs whose notice was missed

    # -- lifecycle ----------------------------------------------------------------------

    def run(self) -> None:
        # Handlers before the row: whoever sees the row may signal us at once.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        if not self._register_when_possible():
            log.info("worker %s stopped before it could register", self.name)
            return
        self._heartbeat = heartbeat = Heartbeat(
            self.store,
            self.name,
            state=lambda: self.state,
            obey=self._obey,
            register=self._register,
            interval=self.heartbeat_interval,
            zombie_timeout=self.zombie_timeout,
            fence=self._fence,
        )
        subscription = self.store.subscribe(self._on_notice, worker=self.name)
        self._threads.start()
        self.state = "running"
        heartbeat.start()
        log.info(
            "worker %s started: %d threads%s",
            self.name,
            self.threads,
            ", burst" if self.burst else "",
        )
        try:
            self._loop()
        finally:
            self._shut_down()
            heartbeat.stop()
            subscription.close()
            self._forget_me()
            log.info("worker %s stopped", self.name)

    def stop(self) -> None:
        """Asks the loop to finish: running jobs complete, nothing new is claimed."""
        self._desired = "stopping"
        self._wake.set()

    def _register(self) -> None:
        for row in self.store.list_workers():
            mine = (row["host"], row["pid"]) == (socket.gethostname(), os.getpid())
            alive = self.store.now() - row["heartbeat_at"] < self.zombie_timeout
            if row["name"] == self.name and alive and not mine:
                raise ConfigurationError(
                    f"a worker named {self.name} already runs on {row['host']} "
                    f"(pid {row['pid']}); choose another --name"
                )
        self.store.register_worker(
            self.name,
            socket.gethostname(),
            os.getpid(),
            self.threads,
            include=self.include,
            exclude=self.exclude,
        )
        self._offered = 0  # a new row offers nothing
        self._received_then = self._received

    def _register_when_possible(self) -> bool:
        """Registers (and brings the cron schedules up to date), waiting while the database
        is busy or out of reach (a lock held by another process is no reason to give up);
        False if a signal came first."""
        wait = 0.1
        while not self._signals:
            try:
                self._register()
                if self._cron:
                    self._cron.sync()
                return True
            except DatabaseUnavailable as error:
                if wait == 0.1:
                    log.warning("database unavailable, waiting to register: %s", error)
            self._wake.wait(wait)
            self._wake.clear()
            wait = min(wait * 2, MAX_OUTAGE_WAIT)
        return False

    def _forget_me(self) -> None:
        try:
            self.store.deregister_worker(self.name)
        except DatabaseUnavailable as error:
            log.warning("could not remove worker %s from the workers table: %s", self.name, error)

    # -- the loop -----------------------------------------------------------------------

    def _loop(self) -> None:
        idle_wait = FIRST_IDLE_WAIT
        while True:
            self._follow_requests()
            if self.state == "stopping":
                return
            try:
                self._take_handoffs()
                self._record()
                if self._cron:
                    self._cron.ensure()
                claimed = self._claim() if self.state == "running" else 0
                self._offer(idle=not claimed)
                self._outage_wait = 0.0
            except DatabaseUnavailable as error:
                self._wait_out_outage(error)
                continue
            unfinished = self._threads.unfinished
            idle = not claimed and not unfinished and not self._to_record
            if self.burst and idle and not self._orphans_left():
                self._set_state("stopping")
                return
            if claimed or unfinished:
                idle_wait = FIRST_IDLE_WAIT
                timeout = self.poll_interval
            else:
                timeout, idle_wait = idle_wait, min(idle_wait * 2, self.poll_interval)
            if self._to_record:
                timeout = min(timeout, RECORD_DELAY)
            self._wake.wait(timeout)
            self._wake.clear()

    def _orphans_left(self) -> bool:
        """Whether dead workers left running jobs or slices behind: a burst worker stays
        until its heartbeat thread has watched long enough to requeue and then run them."""
        try:
            return self.store.has_orphans(self.zombie_timeout, by=self.name)
        except DatabaseUnavailable:
            return True

    def _capacity(self) -> int:
        per_thread = PREFETCH_WINDOW / max(self._job_seconds, 1e-6)
        return self.threads + min(MAX_PREFETCH, int(per_thread * self.threads))

    def _claim(self) -> int:
        unfinished = self._threads.unfinished
        capacity = self._capacity()
        # Refill when a thread may be idle, or the buffer of fast jobs is half gone.
        self._refill_at = max(self.threads - 1, capacity // 2)
        if unfinished > self._refill_at:
            return 0

        def claim() -> list[Row]:
            # Throttled jobs first: few (their limits), and else never any room left for
            # them while other work is queued.
            rows = self._throttled.claim(capacity - unfinished) if self._throttled else []
            room = capacity - unfinished - len(rows)
            if room <= 0:
                return rows
            return rows + self.store.claim_jobs(
                self.name, room, include=self.include, exclude=self.exclude
            )

        rows = self._cron.claim(claim) if self._cron else claim()
        for row in rows:
            self._dispatch(row)
        # Threads no job is waiting for take slices of batch jobs: one each, never ahead,
        # so a job queued meanwhile waits at most one slice for a thread.
        idle = self.threads - self._threads.unfinished
        slices = (
            claim_slices(self.store, self.name, idle, include=self.include, exclude=self.exclude)
            if idle > 0
            else []
        )
        for item in slices:
            self._threads.submit(item)
        claimed = len(rows) + len(slices)
        return claimed or self._sweep_batches()

    def _next_slice(self) -> SliceWork | None:
        # On a thread that just finished a slice: one more, while the worker runs.
        if self.state != "running" or self._signals or self._desired in ("paused", "stopping"):
            return None
        try:
            claimed = claim_slices(
                self.store, self.name, 1, include=self.include, exclude=self.exclude
            )
        except DatabaseUnavailable:
            return None
        return claimed[0] if claimed else None

    def _sweep_batches(self) -> int:
        """Now and then, finishes the batch jobs whose last slice's worker could not."""
        if time.monotonic() - self._swept_at < self.poll_interval:
            return 0
        self._swept_at = time.monotonic()
        held = settle_batches(self.store, self.name)
        for job, claim in held:
            self._threads.submit((job, claim))
        return len(held)

    def _dispatch(self, row: Row) -> None:
        job, claim = load_claimed(row)
        self._holding.add(claim.id)
        if self._expired(job):
            self._add_outcome(Outcome(job, claim, Result.EXPIRED, 0.0))
            return
        if not self._in_window(job):
            self._wait_for_window(job, claim)
            return
        self._threads.submit((job, claim))

    def _in_window(self, job: Job) -> bool:
        window = job.processing_window
        return window is None or window.is_open(self.store.now())

    def _wait_for_window(self, job: Job, claim: Claim) -> None:
        """Puts a job claimed after its window closed back, due at the next opening."""
        window = job.processing_window
        assert window is not None
        now = self.store.now()
        reason = window.closed_message(now)
        try:
            self.store.hand_back_jobs([claim], self.name, reason, run_at=window.next_opening(now))
        except DatabaseUnavailable as error:
            log.warning("could not put job %s back (the reaper will): %s", job.id, error)
        self._release([claim.id])
        log.info("job %s %s: %s", job.id, job.class_name, reason)

    def _may_start(self, work: Work) -> bool:
        # On a job thread, just before the work starts: is it still ours?
        if isinstance(work, SliceWork):
            held = work.held
            if self._fence.trusts(work.row["started_at"]):
                return True
            return self._fence.holds(lambda: self.store.holds_slice(held), repr(work)[1:-1])
        job, claim = work
        if self._fence.trusts(job.started_at):
            return True
        return self._fence.holds(
            lambda: self.store.claimed_state(claim) == "running", f"job {job.id} {job.class_name}"
        )

    def _expired(self, job: Job) -> bool:
        return job.expires_at is not None and job.expires_at <= self.store.now()

    def _set_state(self, state: str) -> None:
        with self._lock:  # no hand-off starts on a thread once the worker left running
            self.state = state

    # -- hand-offs ----------------------------------------------------------------------

    def _offer(self, *, idle: bool) -> None:
        """Offers the free threads to creators while nothing is left to claim; withdraws
        the offer once there is (the queue comes first) or the worker pauses."""
        if not self.store.hands_off:
            return
        left = self._offered - (self._received - self._received_then)
        free = self.threads - self._threads.unfinished
        if self.state != "running" or not idle or free <= 0:
            want = 0
        elif left <= 0 or left < (free + 1) // 2:
            want = free  # renewed only when half used: a write per few hand-offs
        else:
            return
        if want != left:
            received = self._received
            self.store.offer_handoffs(self.name, want, self._heartbeat.offer_lapse)
            self._offered, self._received_then = want, received

    def _on_handoff(self, payload: str) -> None:
        """On the listening thread: starts a job handed to this worker at once."""
        if not payload:
            self._rescue_at = -1.0  # notices may have been lost: look now
            self._wake.set()
            return
        handoff = self.store.read_handoff(payload, self.name)
        if handoff is None:
            return
        self._received += 1
        with self._lock:
            if handoff.job_id in self._rescued:  # started already, by the rescue
                self._rescued.discard(handoff.job_id)
                return
            if handoff.row is not None and self.state == "running":
                job, claim = load_claimed(handoff.row)
                if not self._expired(job) and self._in_window(job):
                    self._holding.add(claim.id)
                    self._threads.submit((job, claim))
                    return
        self._handed.append(handoff)  # to the loop: to read, expire or hand back
        self._wake.set()

    def _take_handoffs(self) -> None:
        """Runs the hand-offs the listening thread left to the loop, and now and then
        looks for hand-offs whose notice never came; hands them back unless running."""
        rescue = self._rescue_at < 0 or (self._offered > 0 and time.monotonic() >= self._rescue_at)
        if not (self._handed or rescue):
            return
        handed = list(self._handed)
        rows = [h.row for h in handed if h.row is not None]
        unread = [h.job_id for h in handed if h.row is None]
        found: list[Row] = []
        if rescue:
            found = self.store.handed_off_jobs(self.name)
            self._rescue_at = time.monotonic() + RESCUE_EVERY
        elif unread:
            rows += self.store.handed_off_jobs(self.name, unread)
        for _ in handed:
            self._handed.popleft()
        announced = {h.job_id for h in handed}
        new: list[Row] = []
        with self._lock:
            for row in rows + found:
                if row["id"] in self._holding or load_claimed(row)[0].batch:
                    continue  # held here already; batch jobs are claimed, never handed off
                new.append(row)
                self._holding.add(row["id"])
                if row["id"] not in announced:
                    self._rescued.add(row["id"])
                    log.warning("job %s was handed to worker %s unannounced", row["id"], self.name)
            running = self.state == "running"
        if running:
            for row in new:
                self._dispatch(row)
        elif new:
            self._hand_back([load_claimed(row) for row in new], f"worker {self.state}")

    def _release(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._holding.difference_update(ids)

    def _outcome_ready(self) -> None:
        # Called on a job thread: wake the loop only when it has something to do (and
        # is not awake already: setting an Event takes its lock and notifies).
        if self._threads.unfinished <= self._refill_at and not self._wake.is_set():
            self._wake.set()

    # -- outcomes -----------------------------------------------------------------------

    def _add_outcome(self, outcome: Outcome) -> None:
        if not self._to_record:
            self._oldest_unrecorded = time.monotonic()
        self._to_record.append(outcome)

    def _record(self, *, now: bool = False) -> None:
        for outcome in self._threads.take_outcomes():
            if isinstance(outcome, BatchOutcome):
                outcome.log()  # recorded already, by the thread that ran it
                self._release([outcome.job_id])
                continue
            self._add_outcome(outcome)
            if outcome.result not in (Result.EXPIRED, Result.LOST):
                self._job_seconds = 0.8 * self._job_seconds + 0.2 * outcome.seconds
        if not self._to_record:
            return
        due = time.monotonic() - self._oldest_unrecorded >= RECORD_DELAY
        if not (now or due or len(self._to_record) >= RECORD_BATCH):
            return
        outcomes = self._to_record
        if any(o.result is Result.LOST for o in outcomes):  # nothing of theirs to write
            lost = [o for o in outcomes if o.result is Result.LOST]
            self._release(o.claim.id for o in lost)
            for outcome in lost:
                log_outcome(outcome)
            outcomes = [o for o in outcomes if o.result is not Result.LOST]
        finished = [
            Finished(o.claim, keep=o.result is Result.COMPLETED and not o.job.destroy_on_complete)
            for o in outcomes
            if o.result in (Result.COMPLETED, Result.EXPIRED)
        ]
        refused: set[int] = set()  # writes the lease refused: another worker holds the job
        if finished and self.store.finish_jobs(finished, self.name) < len(finished):
            refused = self.store.moved_on(finished)
        for index, outcome in enumerate(outcomes):
            if outcome.result is Result.FAILED and outcome.exception is not None:
                try:
                    if not self._record_failure(outcome):
                        refused.add(outcome.claim.id)
                except DatabaseUnavailable:
                    # Completions are in; keep only the failures not yet written.
                    self._to_record = [o for o in outcomes[index:] if o.result is Result.FAILED]
                    kept = {o.claim.id for o in self._to_record}
                    self._release(o.claim.id for o in outcomes if o.claim.id not in kept)
                    raise
        self._to_record = []
        self._release(o.claim.id for o in outcomes)
        for outcome in outcomes:
            log_outcome(outcome, recorded=outcome.claim.id not in refused)
        if self._cron:
            self._cron.finished([o for o in outcomes if o.claim.id not in refused])
        if self._throttled:
            self._throttled.ended(o.job for o in outcomes)

    def _record_failure(self, outcome: Outcome) -> bool:
        """Fails the job, or queues it again if its class retries this failure; False if
        the claim is no longer held."""
        assert outcome.exception is not None
        exception = outcome.exception.to_json()
        error = None if isinstance(outcome.error, UnrunnableJob) else outcome.error
        run_at = retry.retry_at(outcome.job, error, self.store.now())
        if run_at is None:
            return self.store.fail_claimed_job(outcome.claim, exception, self.name)
        outcome.retry_at = run_at
        return self.store.retry_claimed_job(outcome.claim, exception, run_at, self.name)

    def _wait_out_outage(self, error: DatabaseUnavailable) -> None:
        if not self._outage_wait:
            log.warning("database unavailable, retrying: %s", error)
        self._outage_wait = min(max(self._outage_wait * 2, 0.1), MAX_OUTAGE_WAIT)
        self._wake.wait(self._outage_wait)
        self._wake.clear()

    # -- operators and signals ------------------------------------------------------------

    def _on_notice(self, channel: str, payload: str) -> None:
        # On the listening thread: note what came; the loop acts on it.
        if channel == "control":
            self._heartbeat.poke()
        elif channel == "handoff":
            self._on_handoff(payload)
        else:
            if self._throttled:
                self._throttled.announced()
            self._wake.set()

    def _obey(self, desired: str | None) -> None:
        # On the heartbeat thread: note the request; the loop acts on it.
        if desired is not None and desired != self._desired:
            self._desired = desired
            self._wake.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        self._wake.set()

    def _follow_requests(self) -> None:
        before = self.state
        desired = self._desired
        if self._signals or desired == "stopping":
            self._set_state("stopping")
        elif desired == "paused" and self.state == "running":
            self._set_state("paused")
            log.info("worker %s paused", self.name)
            self._hand_back(self._threads.take_back_waiting(), "worker paused")
        elif desired == "running" and self.state == "paused":
            self._set_state("running")
            log.info("worker %s resumed", self.name)
        if self.state != before:
            self._heartbeat.poke()  # operators see the new state now, not at the next beat

    def _shut_down(self) -> None:
        """Hands back what did not start, lets running jobs finish (up to stop_timeout)."""
        self._set_state("stopping")
        self._heartbeat.poke()
        try:
            # No more hand-offs; those made before this commits are handed back below.
            self.store.offer_handoffs(self.name, 0, timedelta(0))
        except DatabaseUnavailable as error:
            log.warning("could not withdraw the offer of hand-offs: %s", error)
        self._hand_back(self._threads.take_back_waiting(), "worker stopping")
        deadline = time.monotonic() + self.stop_timeout
        while self._threads.unfinished and time.monotonic() < deadline:
            if self._signals >= 2:
                break  # a second signal: hand back everything now
            self._wake.wait(0.05)
            self._wake.clear()
            self._record_safely()
        self._record_safely(now=True)
        leftover = self._threads.running()
        if leftover:
            self._hand_back(leftover, "worker stopped before the job finished")
        self._threads.stop(timeout=0)
        if self.store.hands_off:
            self._rescue_at = -1.0
            try:
                self._take_handoffs()  # hands back what was handed here meanwhile
            except DatabaseUnavailable as error:
                log.warning("could not hand back jobs handed to it (the reaper will): %s", error)

    def _record_safely(self, *, now: bool = False) -> None:
        try:
            self._record(now=now)
        except DatabaseUnavailable as error:
            log.warning("could not record outcomes: %s", error)

    def _hand_back(self, work: Sequence[Work], reason: str) -> None:
        claims: list[Claim] = [w[1] for w in work if not isinstance(w, SliceWork)]
        held: list[SliceClaim] = [w.held for w in work if isinstance(w, SliceWork)]
        try:
            if claims:
                self.store.hand_back_jobs(claims, self.name, reason)
                self._release(c.id for c in claims)
                log.info("worker %s handed back %d jobs: %s", self.name, len(claims), reason)
            if held:
                self.store.hand_back_slices(held)
                log.info("worker %s handed back %d slices: %s", self.name, len(held), reason)
        except DatabaseUnavailable as error:
            log.warning("could not hand back its work (the reaper will): %s", error)
