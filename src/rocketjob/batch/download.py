"""Downloading: a batch job's output in input order, and its failed records as CSV."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING, Any

from rocketjob.batch.files import open_target
from rocketjob.batch.formats import parse_output
from rocketjob.batch.formulas import escaped_csv, escaped_row
from rocketjob.batch.slices import FailedRecord, decode_output, decode_records
from rocketjob.config import get_store
from rocketjob.errors import OutputNotReady
from rocketjob.records import JobException
from rocketjob.states import State, SubState
from rocketjob.store import Row

if TYPE_CHECKING:
    from rocketjob.batch.job import BatchJob

# Slices read per query: memory stays at a few slices whatever the size of the output.
PAGE = 16

Target = str | os.PathLike[str] | IO[bytes] | IO[str]


def ready(job: BatchJob) -> tuple[str, Row]:
    """The output format and the batch (its CSV headers), once the job has finished
    processing."""
    job.reload()
    if job.output_format is None:
        raise OutputNotReady(f"{job.class_name} keeps no output (its output_format is None)")
    finished = job.state is State.COMPLETED or (
        job.state is State.RUNNING and job.sub_state is SubState.AFTER
    )
    if not finished:
        doing = job.state.value
        if job.state is State.RUNNING and job.sub_state:
            doing += f" ({job.sub_state.value})"
        raise OutputNotReady(
            f"job {job.id} is {doing}: its output can be downloaded once it has completed"
        )
    batch = get_store().get_batch(job._saved_id())
    return job.output_format, batch or {}


def _output_slices(job_id: int) -> Iterator[Row]:
    store = get_store()
    after = 0
    while rows := store.output_slices(job_id, after=after, limit=PAGE):
        yield from rows
        after = int(rows[-1]["position"])


def download(job: BatchJob, target: Target, *, escape_formulas: bool = False) -> int:
    chunks = output_bytes(job, escape_formulas=escape_formulas)
    if isinstance(target, str | os.PathLike):
        with open_target(target) as out:
            return _write(chunks, out)
    return _write(chunks, target)


def _write(chunks: OutputChunks, out: IO[Any]) -> int:
    text = isinstance(out, io.TextIOBase)
    for data in chunks:
        out.write(data.decode("utf-8") if text else data)
    return chunks.records


class OutputChunks:
    """The output file's bytes, a slice at a time (CSV: the header first); `records`
    counts the records handed out so far."""

    def __init__(self, job_id: int, output_format: str, batch: Row, escape_formulas: bool) -> None:
        self.job_id = job_id
        self.output_format = output_format
        self.header: list[str] | None = batch.get("output_header")
        # Without records the output header was never fixed: the input's stands in.
        self.empty_header: list[str] | None = batch.get("input_header")
        self.escape_formulas = escape_formulas and output_format == "csv"
        self.records = 0

    def __iter__(self) -> Iterator[bytes]:
        csv_output = self.output_format == "csv"
        if csv_output and self.header:
            yield self._csv_line(self.header)
        for row in _output_slices(self.job_id):
            self.records += int(row["output_count"])
            data = decode_output(row["output"])
            if self.escape_formulas:
                data = escaped_csv(data.decode("utf-8")).encode("utf-8")
            yield data
        if csv_output and not self.header and not self.records and self.empty_header:
            yield self._csv_line(self.empty_header)  # every chunk before was empty

    def _csv_line(self, fields: list[str]) -> bytes:
        line = io.StringIO()
        csv.writer(line).writerow(escaped_row(fields) if self.escape_formulas else fields)
        return line.getvalue().encode("utf-8")


def output_bytes(job: BatchJob, *, escape_formulas: bool = False) -> OutputChunks:
    """Refuses (OutputNotReady) now, before any byte is handed out."""
    output_format, batch = ready(job)
    return OutputChunks(job._saved_id(), output_format, batch, escape_formulas)


def output_records(job: BatchJob) -> Iterator[Any]:
    output_format, batch = ready(job)
    header = batch.get("output_header")
    for row in _output_slices(job._saved_id()):
        text = decode_output(row["output"]).decode("utf-8")
        yield from parse_output(output_format, text, header)


def failed_records(job: BatchJob, position: int | None = None) -> Iterator[FailedRecord]:
    """The record that raised in each failed slice (or in the one at `position`)."""
    store = get_store()
    job_id = job._saved_id()
    header: list[str] | None = None
    if job.input_format == "csv":
        header = (store.get_batch(job_id) or {}).get("input_header")
    after = 0
    while rows := store.failed_slice_records(job_id, after=after, limit=PAGE, position=position):
        for row in rows:
            records = decode_records(row["records"])
            record = records[int(row["processed"])]
            if header is not None:
                record = dict(zip(header, record, strict=False))
            exception = JobException.from_json(row["exception"])
            yield FailedRecord(
                position=int(row["position"]),
                number=int(row["first_record"]) + int(row["processed"]),
                record=record,
                exception=exception or JobException("", ""),
            )
        after = int(rows[-1]["position"])


def download_failed(job: BatchJob, target: Target, *, escape_formulas: bool = False) -> int:
    """Writes the failed records as CSV: number, exception, then the record's fields."""
    count = 0
    with ExitStack() as stack:
        if isinstance(target, str | os.PathLike):
            out: IO[Any] = stack.enter_context(open_target(target))
        else:
            out = target
        text = isinstance(out, io.TextIOBase)
        for line in failed_records_csv(job, escape_formulas=escape_formulas):
            out.write(line if text else line.encode("utf-8"))
            count += 1
    return count - 1  # the header line


def failed_records_csv(job: BatchJob, *, escape_formulas: bool = False) -> Iterator[str]:
    """The failed records as CSV lines: record_number, exception_class, exception_message,
    then the record's fields (CSV input) or the record itself."""
    header: list[str] | None = None
    if job.input_format == "csv":
        header = (get_store().get_batch(job._saved_id()) or {}).get("input_header")
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: list[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(escaped_row(values) if escape_formulas else values)
        return buffer.getvalue()

    yield line(["record_number", "exception_class", "exception_message", *(header or ["record"])])
    for failed in failed_records(job):
        values: list[Any]
        if header is not None:
            values = [failed.record.get(name, "") for name in header]
        elif isinstance(failed.record, str):
            values = [failed.record]
        else:
            values = [json.dumps(failed.record, ensure_ascii=False)]
        exception = failed.exception
        yield line([failed.number, exception.class_name, exception.message, *values])
