"""Downloading: a batch job's output in input order, and its failed records as CSV."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
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
        doing = f"{job.state.value} ({job.sub_state.value})" if job.sub_state else job.state.value
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
    output_format, header = ready(job)
    if isinstance(target, str | os.PathLike):
        with open_target(target) as out:
            return _write(job._saved_id(), output_format, header, out)
    return _write(job._saved_id(), output_format, header, target)


def _write(job_id: int, output_format: str, header: list[str] | None, out: IO[Any]) -> int:
    text = isinstance(out, io.TextIOBase)
    written = 0
    if output_format == "csv" and header:
        line = io.StringIO()
        csv.writer(line).writerow(header)
        out.write(line.getvalue() if text else line.getvalue().encode("utf-8"))
    for row in _output_slices(job_id):
        data = decode_output(row["output"])
        out.write(data.decode("utf-8") if text else data)
        written += int(row["output_count"])
    return written


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
    header: list[str] | None = None
    if job.input_format == "csv":
        header = (get_store().get_batch(job._saved_id()) or {}).get("input_header")
    columns = ["record_number", "exception_class", "exception_message", *(header or ["record"])]
    if isinstance(target, str | os.PathLike):
        with open_target(target) as out:
            return _write_failed(job, columns, header, out)
    return _write_failed(job, columns, header, target)


def _write_failed(job: BatchJob, columns: list[str], header: list[str] | None, out: IO[Any]) -> int:
    text = isinstance(out, io.TextIOBase)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    count = 0
    for failed in failed_records(job):
        values: list[Any]
        if header is not None:
            values = [failed.record.get(name, "") for name in header]
        elif isinstance(failed.record, str):
            values = [failed.record]
        else:
            values = [json.dumps(failed.record, ensure_ascii=False)]
        exception = failed.exception
        writer.writerow([failed.number, exception.class_name, exception.message, *values])
        count += 1
        out.write(buffer.getvalue() if text else buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
    out.write(buffer.getvalue() if text else buffer.getvalue().encode("utf-8"))
    return count
