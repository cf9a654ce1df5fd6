"""BatchJob: a job whose records are uploaded, split into slices and processed in parallel."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, Self

from rocketjob.batch import download as downloads
from rocketjob.batch.formats import INPUT_FORMATS, OUTPUT_FORMATS
from rocketjob.batch.slices import FailedRecord, FailedSlice, FailureGroup
from rocketjob.batch.status import BatchStatus, batch_status
from rocketjob.batch.upload import Progress, Source, upload
from rocketjob.config import get_store
from rocketjob.errors import InvalidTransition, RocketJobError
from rocketjob.jobs import RACE_RETRIES, Job
from rocketjob.records import JobException
from rocketjob.states import Action, State


class BatchJob(Job):
    """Millions of records in slices, processed in parallel; failed records retried alone.

    Subclass it, declare the formats and implement `perform(record)`, called once per
    record on any worker; what it returns (None: nothing) is the record's output.
    """

    batch: ClassVar[bool] = True
    destroy_on_complete = False  # the output lives with the job: keep it to download it
    slice_size: ClassVar[int] = 100
    input_format: ClassVar[str | None] = None  # None raw lines, "csv" dicts, "jsonl" values
    output_format: ClassVar[str | None] = None  # None keep nothing, "csv", "jsonl", "lines"
    # CSV output columns; by default the keys of the first record written.
    output_fields: ClassVar[Sequence[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.input_format not in INPUT_FORMATS:
            raise TypeError(f"{cls.class_name}: input_format must be one of {INPUT_FORMATS}")
        if cls.output_format not in OUTPUT_FORMATS:
            raise TypeError(f"{cls.class_name}: output_format must be one of {OUTPUT_FORMATS}")
        if not isinstance(cls.slice_size, int) or cls.slice_size < 1:
            raise TypeError(f"{cls.class_name}: slice_size must be a positive int")
        if cls._async_perform:
            raise TypeError(f"{cls.class_name}: batch jobs perform records on threads, not async")

    # -- the work -------------------------------------------------------------------------

    def perform(self, record: Any) -> Any:  # type: ignore[override]
        raise NotImplementedError(f"{self.class_name} does not implement perform(record)")

    def before_batch(self) -> None:
        """Runs once, on one worker, before any record is processed."""

    def after_batch(self) -> None:
        """Runs once, on one worker, after every record was processed."""

    def before_slice(self) -> None:
        """Runs before the records of each slice, on the worker processing it; what it
        raises fails the slice before its first record."""

    def after_slice(self) -> None:
        """Runs after the records of each slice; what it raises fails the slice at its
        last record (processed again on retry)."""

    def perform_now(self) -> None:
        raise RocketJobError("batch jobs are processed by workers: run `rocketjob worker`")

    # -- records in and out ---------------------------------------------------------------

    def upload(
        self,
        source: Source,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        on_progress: Progress | None = None,
    ) -> int:
        """Streams records into slices; returns how many. Raises UploadError naming the
        file and line of bad input, leaving no slice behind.

        `source`: a path (.gz, .bz2, .zip read by name), a file object, or an iterable of
        records. `encoding` of the bytes: by default the one a byte order mark names
        (UTF-8, UTF-16, UTF-32), else UTF-8. `delimiter` of CSV fields: by default ",",
        and a one-column header holding ";", tab or "|" is refused as a likely mistake.
        `on_progress(records, bytes_read)` is called as slices are stored.
        """
        return upload(self, source, encoding=encoding, delimiter=delimiter, on_progress=on_progress)

    def download(self, target: downloads.Target, *, escape_formulas: bool = False) -> int:
        """Writes the output in input order (CSV: header first), compressed by file name;
        returns the records written. OutputNotReady until the job completed.

        `escape_formulas`: CSV cells a spreadsheet would run as formulas (starting with
        =, +, -, @, tab or carriage return, plain numbers aside) get a leading "'".
        """
        return downloads.download(self, target, escape_formulas=escape_formulas)

    def output(self) -> Iterator[Any]:
        """The output records in input order (CSV: dicts keyed by the header)."""
        return downloads.output_records(self)

    def output_bytes(self, *, escape_formulas: bool = False) -> Iterable[bytes]:
        """The output file's bytes, a slice at a time: to stream a download (formulas
        escaped as in download())."""
        return downloads.output_bytes(self, escape_formulas=escape_formulas)

    # -- what operators see and do --------------------------------------------------------

    def batch_status(self) -> BatchStatus:
        """Record count, slices per state, percent, records/s and ETA, workers on it."""
        store = get_store()
        self.reload()
        return batch_status(store, self._saved_id(), self.state, self.sub_state, store.now())

    def failed_slices(self, *, after: int = 0, limit: int = 100) -> list[FailedSlice]:
        """Failed slices by position, from the one after position `after`."""
        rows = get_store().failed_slices(self._saved_id(), after=after, limit=limit)
        return [
            FailedSlice(
                position=int(row["position"]),
                first_record=int(row["first_record"]),
                record_count=int(row["record_count"]),
                failed_record=int(row["failed_record"]),
                exception=JobException.from_json(row["exception"]) or JobException("", ""),
                worker_name=row["worker_name"],
                started_at=row["started_at"],
                completed_at=row["completed_at"],
            )
            for row in rows
        ]

    def failures_by_exception(self) -> list[FailureGroup]:
        """Failed slices grouped by exception class, the most frequent first."""
        rows = get_store().failed_slices_by_exception(self._saved_id())
        return [
            FailureGroup(str(r["class_name"]), int(r["slices"]), int(r["first_position"]))
            for r in rows
        ]

    def failed_record(self, position: int) -> FailedRecord:
        """The record that raised in the failed slice at `position`."""
        for failed in downloads.failed_records(self, position):
            return failed
        raise LookupError(f"job {self.id} has no failed slice at position {position}")

    def failed_records(self) -> Iterator[FailedRecord]:
        """The record that raised in each failed slice, by position."""
        return downloads.failed_records(self)

    def download_failed(self, target: downloads.Target, *, escape_formulas: bool = False) -> int:
        """Writes the failed records as CSV (number, exception, fields); returns how many.
        Formulas are escaped as in download()."""
        return downloads.download_failed(self, target, escape_formulas=escape_formulas)

    def failed_records_csv(self, *, escape_formulas: bool = False) -> Iterator[str]:
        """The failed records as CSV lines, header first: to stream a download."""
        return downloads.failed_records_csv(self, escape_formulas=escape_formulas)

    @staticmethod
    def workers_on(job_ids: Sequence[int]) -> dict[int, int]:
        """How many workers run slices of each of these jobs now (absent: none)."""
        return get_store().workers_on_batches(job_ids)

    def retry_slice(self, position: int, *, by: str | None = None) -> Self:
        """Requeues one failed slice; a failed job runs again for that slice alone."""
        store = get_store()
        for _ in range(RACE_RETRIES):
            self.reload()
            if self.state is State.FAILED:
                self._only_slice = position
                try:
                    return self._act(Action.RETRY, by)
                finally:
                    self._only_slice = None
            if store.requeue_failed_slices(self._saved_id(), position) == 1:
                return self
            raise InvalidTransition(f"slice {position} of job {self.id} has not failed")
        raise RocketJobError(f"job {self.id} kept changing; retry gave up, try again")
