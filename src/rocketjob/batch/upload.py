"""Uploading: records streamed from a file (or any iterable) into compressed slices.

Slices are inserted in bulk a chunk at a time, so memory stays flat whatever the size of
the file; workers claim none of them until the whole file was read and the end of the
upload fixed the record count. A failed upload (a ragged row at line 60,002) therefore ran
no record: it removes every slice it inserted and fails the job with what went wrong.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, Any

from rocketjob.batch.files import open_source
from rocketjob.batch.formats import GivenRecords, RecordReader, reader_for
from rocketjob.batch.slices import encode_records
from rocketjob.config import get_store
from rocketjob.errors import InvalidTransition, JobNotFound, RocketJobError, UploadError
from rocketjob.states import State
from rocketjob.store import NewSlice, Store

if TYPE_CHECKING:
    from rocketjob.batch.job import BatchJob

# A chunk of slices is committed when it holds this many compressed bytes or slices.
FLUSH_BYTES = 4 << 20
FLUSH_SLICES = 50

Source = str | os.PathLike[str] | IO[bytes] | IO[str] | Iterable[Any]
Progress = Callable[[int, int | None], None]  # (records so far, bytes of the file read)


def upload(
    job: BatchJob,
    source: Source,
    *,
    encoding: str | None,
    delimiter: str | None,
    on_progress: Progress | None,
) -> int:
    store = get_store()
    job_id = job._saved_id()
    state = job.reload().state
    if state in (State.COMPLETED, State.ABORTED):
        raise RocketJobError(f"cannot upload into a {state.value} job")
    try:
        with _records(source, job.input_format, encoding, delimiter) as (reader, name, position):
            if not store.start_upload(job_id, job.slice_size, reader.header, job.output_fields):
                job.reload()  # JobNotFound if it was destroyed meanwhile
                raise _Refused(
                    f"job {job_id} already has an upload (finished, or still going on): "
                    "create a new job for more records"
                )
            try:
                count = _stream(store, job_id, reader, job.slice_size, name, position, on_progress)
                store.finish_upload(job_id, count)
            except BaseException:
                store.drop_upload(job_id)  # nothing of a broken upload stays
                raise
    except (_Refused, JobNotFound):
        raise
    except Exception as error:
        _fail(job, error)
        raise
    return count


class _Refused(RocketJobError):
    """The job has an upload already: nothing went wrong with this one's file."""


def _fail(job: BatchJob, error: Exception) -> None:
    """Fails the job with what went wrong with its upload: the operator sees it in
    Mission Control instead of a job waiting for records that never come."""
    with suppress(InvalidTransition, JobNotFound):  # an operator ended or destroyed it
        job.fail(f"upload failed: {error}")


@contextmanager
def _records(
    source: Source, input_format: str | None, encoding: str | None, delimiter: str | None
) -> Iterator[tuple[RecordReader, str, Callable[[], int | None]]]:
    if isinstance(source, str | os.PathLike):
        with open_source(source) as opened:
            reader = reader_for(opened.stream, opened.name, input_format, encoding, delimiter)
            yield reader, opened.name, opened.position
    elif hasattr(source, "read"):
        name = str(getattr(source, "name", "the uploaded stream"))
        reader = reader_for(source, name, input_format, encoding, delimiter)  # type: ignore[arg-type]
        yield reader, name, lambda: None
    else:
        yield GivenRecords(source, input_format), "records", lambda: None


def _stream(
    store: Store,
    job_id: int,
    reader: RecordReader,
    slice_size: int,
    name: str,
    position: Callable[[], int | None],
    on_progress: Progress | None,
) -> int:
    count = 0
    pending: list[NewSlice] = []
    pending_bytes = 0
    for number, chunk in enumerate(reader.chunks(slice_size), 1):
        payload = _encoded(chunk, name, count)
        pending.append(NewSlice(number, count + 1, len(chunk), payload))
        count += len(chunk)
        pending_bytes += len(payload)
        if pending_bytes >= FLUSH_BYTES or len(pending) >= FLUSH_SLICES:
            _flush(store, job_id, pending, count, position, on_progress)
            pending_bytes = 0
    _flush(store, job_id, pending, count, position, on_progress)
    return count


def _encoded(chunk: list[Any], name: str, before: int) -> bytes:
    try:
        return encode_records(chunk)
    except (TypeError, ValueError) as error:
        for index, record in enumerate(chunk, before + 1):
            try:
                encode_records([record])
            except (TypeError, ValueError) as bad:
                raise UploadError(name, f"record {index}", f"cannot be stored: {bad}") from None
        raise UploadError(name, None, f"cannot be stored: {error}") from None


def _flush(
    store: Store,
    job_id: int,
    pending: list[NewSlice],
    count: int,
    position: Callable[[], int | None],
    on_progress: Progress | None,
) -> None:
    if pending:
        store.insert_slices(job_id, pending, count)
        pending.clear()
    if on_progress is not None:
        on_progress(count, position())
