"""Processing slices: claimed by any worker thread, each completed (with its output) or failed
under its lease, in one statement (one transaction on SQLite).

The per-record loop is `list.extend(map(perform, records))`: the only Python run per record
is perform() itself. A record that raises stops the slice there; list.extend keeps what the
records before it returned, which becomes the slice's partial output.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import repeat
from typing import TYPE_CHECKING, Any

from rocketjob.batch.formats import BadOutput, encode_output
from rocketjob.batch.lifecycle import BatchOutcome, run_after, settle
from rocketjob.batch.slices import decode_records
from rocketjob.batch.slices import encode_output as compress_output
from rocketjob.behaviours.callbacks import failed
from rocketjob.jobs import Job
from rocketjob.records import JobException
from rocketjob.store import Row, SliceClaim, Store

if TYPE_CHECKING:
    from rocketjob.batch.job import BatchJob

# Job rows a worker process keeps while it works on their slices.
CACHED_JOBS = 64
# Where a slice stopped: the index of the record that raised (or could not be written), and why.
Failure = tuple[int, JobException]


class SliceWork:
    """One claimed slice: `run()` processes it on the calling thread and records the outcome."""

    def __init__(
        self, store: Store, worker_name: str, job_row: Row, headers: Row, row: Row
    ) -> None:
        self.store = store
        self.worker_name = worker_name
        self.job_row = job_row
        self.headers = headers  # the batch's CSV input and output headers
        self.row = row
        self.held = SliceClaim(int(row["id"]), int(row["lease"]))

    def __repr__(self) -> str:
        return f"<slice {self.row['position']} of job {self.row['job_id']}>"

    def run(self) -> BatchOutcome:
        started = time.monotonic()
        job = Job.from_row(self.job_row)
        row = self.row
        done = int(row["processed"])
        with _collector_paused():
            todo = decode_records(row["records"])[done:]
            results: list[Any] = []
            if job.load_error or not isinstance(job, _batch_job()):
                problem = job.load_error or f"{job.class_name} is not a rocketjob.BatchJob"
                failure: Failure | None = (0, self._exception("rocketjob.UnrunnableJob", problem))
            else:
                failure = self._perform(job, todo, results)
            text, count, failure = self._encode(job, results, failure)
            output = None if text is None else compress_output(text, row["output"])
            count += int(row["output_count"])
            records = len(todo)
            del todo, results  # freed before the collector is back
        if failure is not None:
            index, exception = failure
            return self._fail(job, started, done + index, output, count, exception)
        return self._complete(job, started, records, output, count)

    def lost(self) -> BatchOutcome:
        """The outcome of this slice when another worker took it over before it started."""
        return self._outcome(Job.from_row(self.job_row), "lost", time.monotonic(), 0)

    def _exception(self, class_name: str, message: str) -> JobException:
        return JobException(class_name, message, [], self.worker_name)

    def _perform(self, job: BatchJob, todo: list[Any], results: list[Any]) -> Failure | None:
        header = self.headers["input_header"]
        records = map(dict, map(zip, repeat(header), todo)) if job.input_format == "csv" else todo
        at: int | None = None
        try:
            job.before_slice()
            results.extend(map(job.perform, records))
            # after_slice raising fails the slice at its last record, run again on retry.
            at = max(len(results) - 1, 0)
            job.after_slice()
        except Exception as error:
            failed(job, error)
            exception = JobException.from_exception(error, self.worker_name)
            return len(results) if at is None else at, exception
        return None

    def _encode(
        self, job: Job, results: list[Any], failure: Failure | None
    ) -> tuple[str | None, int, Failure | None]:
        output_format = getattr(job, "output_format", None)
        if output_format is None:
            return None, 0, failure
        if failure is not None:
            del results[failure[0] :]
        header = self._header(job, output_format, results)
        try:
            text, count = encode_output(output_format, results, header)
        except BadOutput as bad:
            failure = (bad.index, self._exception("rocketjob.BadOutput", str(bad)))
            del results[bad.index :]
            text, count = encode_output(output_format, results, header)
        return text, count, failure

    def _header(self, job: Job, output_format: str, results: list[Any]) -> list[str] | None:
        header: list[str] | None = self.headers["output_header"]
        if header is None and output_format == "csv":
            first = next((r for r in results if r is not None), None)
            if isinstance(first, dict):
                header = self.store.set_output_header(job._saved_id(), list(first))
                self.headers["output_header"] = header
        return header

    def _complete(
        self, job: Job, started: float, records: int, output: bytes | None, count: int
    ) -> BatchOutcome:
        store = self.store
        progress = store.complete_slice(self.held, output, count)
        if progress is None:
            return self._outcome(job, "lost", started, records)
        _record_percent(store, progress)
        outcome = self._outcome(job, "completed", started, records)
        total = progress["record_count"]
        # The count of records done moves under the batch row's lock: the completion that
        # reaches the total is the last. Failed slices are the only other way to finish.
        if total is not None and (progress["records_done"] == total or progress["failed_slices"]):
            return _then_settle(store, job, self.worker_name, outcome)
        return outcome

    def _fail(
        self,
        job: Job,
        started: float,
        processed: int,
        output: bytes | None,
        count: int,
        exception: JobException,
    ) -> BatchOutcome:
        number = int(self.row["first_record"]) + processed
        if not self.store.fail_slice(
            self.held,
            processed=processed,
            output=output,
            output_count=count,
            failed_record=number,
            exception=exception.to_json(),
        ):
            return self._outcome(job, "lost", started, 0)
        outcome = self._outcome(job, "failed", started, processed, exception, number)
        return _then_settle(self.store, job, self.worker_name, outcome)

    def _outcome(
        self,
        job: Job,
        result: str,
        started: float,
        records: int,
        exception: JobException | None = None,
        record: int | None = None,
    ) -> BatchOutcome:
        return BatchOutcome(
            job_id=job._saved_id(),
            class_name=job.class_name,
            step=f"slice {self.row['position']}",
            result=result,
            seconds=time.monotonic() - started,
            records=records,
            exception=exception,
            record=record,
        )


_collector_lock = threading.Lock()
_slices_running = 0
_collector_was_on = True


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while any thread runs a slice's records.

    A slice allocates thousands of records and results at once, which triggers collections
    that scan the whole heap: about a third of the time per record. Reference counting
    still frees them; the collector runs again when no slice is running.
    """
    global _slices_running, _collector_was_on
    with _collector_lock:
        _slices_running += 1
        if _slices_running == 1:
            _collector_was_on = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _collector_lock:
            _slices_running -= 1
            if _slices_running == 0 and _collector_was_on:
                gc.enable()


def _batch_job() -> type[BatchJob]:
    from rocketjob.batch.job import BatchJob

    return BatchJob


def _then_settle(store: Store, job: Job, worker_name: str, outcome: BatchOutcome) -> BatchOutcome:
    # The last slice's worker finishes the job: it wins the move to `after` and runs it.
    held = settle(store, job._saved_id(), worker_name)
    if held is None:
        return outcome
    return outcome.followed_by(run_after(*held, worker_name))


_percent_lock = threading.Lock()
# The percent last written per store and job: most slices leave it unchanged.
_percent: weakref.WeakKeyDictionary[Store, dict[int, int]] = weakref.WeakKeyDictionary()


def _record_percent(store: Store, progress: Row) -> None:
    total = progress.get("record_count")
    if not total:
        return
    percent = min(99, int(progress["records_done"]) * 100 // int(total))
    job_id = int(progress["job_id"])
    with _percent_lock:
        written = _percent.setdefault(store, {})
        if written.get(job_id) == percent:
            return
        written[job_id] = percent
        if len(written) > CACHED_JOBS:
            written.pop(next(iter(written)))
    store.set_batch_percent(job_id, percent)


class _JobCache:
    """Rows of the jobs whose slices this process works on: their fields never change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: OrderedDict[int, Row] = OrderedDict()

    def get(self, store: Store, job_id: int) -> Row | None:
        with self._lock:
            cached = self._rows.get(job_id)
        if cached is not None:
            return cached
        row = store.get_job(job_id)
        if row is None:
            return None
        with self._lock:
            self._rows[job_id] = row
            while len(self._rows) > CACHED_JOBS:
                self._rows.popitem(last=False)
        return row


_caches: weakref.WeakKeyDictionary[Store, _JobCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def _jobs(store: Store) -> _JobCache:
    with _caches_lock:
        cache = _caches.get(store)
        if cache is None:
            cache = _caches[store] = _JobCache()
        return cache


def claim_slices(
    store: Store,
    worker_name: str,
    limit: int,
    *,
    include: str | None = None,
    exclude: str | None = None,
) -> list[SliceWork]:
    """Claims up to `limit` slices of the most urgent processing batch job, as work to run."""
    work = []
    for row in store.claim_slices(worker_name, limit, include=include, exclude=exclude):
        job_row = _jobs(store).get(store, int(row["job_id"]))
        if job_row is None:  # destroyed meanwhile: its slices went with it
            continue
        headers = {"input_header": row["input_header"], "output_header": row["output_header"]}
        work.append(SliceWork(store, worker_name, job_row, headers, row))
    return work
