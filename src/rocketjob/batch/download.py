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


def ready(job: BatchJob) -> tuple[str, list[str] | None]:
    """The output format and CSV header, once the job has finished processing."""
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
    return job.output_format, (batch or {}).get("output_header")


def _output_slices(job_id: int) -> Iterator[Row]:
    store = get_store()
    after = 0
    while rows := store.output_slices(job_id, after=after, limit=PAGE):
        yield from rows
        after = int(rows[-1]["position"])


def download(job: BatchJob, target: Target) -> int:
    chunks = output_bytes(job)
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

    def __init__(self, job_id: int, output_format: str, header: list[str] | None) -> None:
        self.job_id = job_id
        self.output_format = output_format
        self.header = header
        self.records = 0

    def __iter__(self) -> Iterator[bytes]:
        if self.output_format == "csv" and self.header:
            line = io.StringIO()
            csv.writer(line).writerow(self.header)
            yield line.getvalue().encode("utf-8")
        for row in _output_slices(self.job_id):
            self.records += int(row["output_count"])
            yield decode_output(row["output"])


def output_bytes(job: BatchJob) -> OutputChunks:
    """Refuses (OutputNotReady) now, before any byte is handed out."""
    output_format, header = ready(job)
    return OutputChunks(job._saved_id(), output_format, header)


def output_records(job: BatchJob) -> Iterator[Any]:
    output_format, header = ready(job)
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


def download_failed(job: BatchJob, target: Target) -> int:
    """Writes the failed records as CSV: number, exception, then the record's fields."""
    count = 0
    with ExitStack() as stack:
        if isinstance(target, str | os.PathLike):
            out: IO[Any] = stack.enter_context(open_target(target))
        else:
            out = target
        text = isinstance(out, io.TextIOBase)
        for line in failed_records_csv(job):
            out.write(line if text else line.encode("utf-8"))
            count += 1
    return count - 1  # the header line


def failed_records_csv(job: BatchJob) -> Iterator[str]:
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
        writer.writerow(values)
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
