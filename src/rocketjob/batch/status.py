"""What operators see of a batch job: slice counts, progress, records/s and ETA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rocketjob.states import State, SubState
from rocketjob.store import Store

SLICE_STATES = ("queued", "running", "failed", "completed")


@dataclass(frozen=True)
class BatchStatus:
    """A batch job's progress, as the slice bar and the job page show it."""

    record_count: int | None  # None while the upload is still going on
    uploaded_records: int
    slice_size: int
    slices: dict[str, int]  # per slice state: queued, running, failed, completed
    records: dict[str, int]  # records in the slices of each state
    records_done: int
    percent_complete: int
    records_per_s: float | None  # while processing
    eta: timedelta | None  # while processing, once the record count is known
    workers: int  # workers running its slices right now

    @property
    def uploading(self) -> bool:
        return self.record_count is None and self.uploaded_records > 0


def batch_status(
    store: Store, job_id: int, state: State, sub_state: SubState | None, now: datetime
) -> BatchStatus:
    batch = store.get_batch(job_id)
    counts = store.slice_counts(job_id)
    slices = {name: counts.get(name, (0, 0))[0] for name in SLICE_STATES}
    records = {name: counts.get(name, (0, 0))[1] for name in SLICE_STATES}
    if batch is None:
        return BatchStatus(None, 0, 0, slices, records, 0, 0, None, None, 0)
    total = _int(batch["record_count"])
    done = int(batch["records_done"])
    percent = min(99, done * 100 // total) if total else 0
    if state is State.COMPLETED:
        percent = 100
    rate = eta = None
    if state is State.RUNNING and sub_state is SubState.PROCESSING:
        rate = _rate(batch, done, now)
        if rate and total is not None:
            eta = timedelta(seconds=round((total - done) / rate))
    return BatchStatus(
        record_count=total,
        uploaded_records=int(batch["uploaded_records"]),
        slice_size=int(batch["slice_size"]),
        slices=slices,
        records=records,
        records_done=done,
        percent_complete=percent,
        records_per_s=rate,
        eta=eta,
        workers=store.workers_on_batches([job_id]).get(job_id, 0),
    )


def _rate(batch: dict[str, Any], done: int, now: datetime) -> float | None:
    since = batch["run_started_at"]
    if since is None:
        return None
    seconds = (now - since).total_seconds()
    return (done - int(batch["run_records"])) / seconds if seconds > 0 else None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
