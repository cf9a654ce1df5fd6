"""The store's batch half: uploads, slices, their claims and the settling of batch jobs.

A mixin of Store: it knows which named query does what; the backends supply the bulk
insert of slices and how an array parameter travels.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rocketjob.store.executor import Claim, Executor, Row


@dataclass(frozen=True)
class NewSlice:
    position: int
    first_record: int  # number within the file (1-based) of its first record
    record_count: int
    records: bytes  # the encoded payload


@dataclass(frozen=True)
class SliceClaim:
    """A worker's hold on a running slice: it completes or fails only with this lease."""

    id: int
    lease: int


class BatchStore(Executor):
    """The statements here change a slice and its batch's counters at once (data-modifying
    CTEs on PostgreSQL); SQLite overrides the `_…` steps to do so in one transaction."""

    @abstractmethod
    def _insert_slices(self, job_id: int, slices: Sequence[NewSlice]) -> None:
        """Inserts a chunk of slices in bulk (inside the caller's transaction)."""

    # -- uploads --------------------------------------------------------------------------

    def start_upload(
        self,
        job_id: int,
        slice_size: int,
        input_header: Sequence[str] | None,
        output_header: Sequence[str] | None,
    ) -> bool:
        """Opens the job's batch; False if it already has one (uploaded or uploading)."""
        params = {
            "job_id": job_id,
            "slice_size": slice_size,
            "input_header": _json_or_none(input_header),
            "output_header": _json_or_none(output_header),
            "now": self.now(),
        }
        return self.fetch_one("insert_batch", params) is not None

    def insert_slices(self, job_id: int, slices: Sequence[NewSlice], uploaded: int) -> None:
        """Adds a chunk of slices and the running record count; workers claim none of them
        before the upload finishes."""
        with self.transaction():
            self._insert_slices(job_id, slices)
            self.execute("count_uploaded", {"job_id": job_id, "records": uploaded})

    def finish_upload(self, job_id: int, record_count: int) -> None:
        """Fixes the record count: the slices become claimable."""
        params = {"job_id": job_id, "records": record_count, "now": self.now()}
        with self.transaction():
            self.execute("finish_upload", params)
            self.execute("notify_jobs", {})

    def drop_upload(self, job_id: int) -> None:
        """Removes a failed upload: its slices (and any output made of them) and its batch."""
        with self.transaction():
            self.execute("drop_slices", {"job_id": job_id})
            self.execute("drop_batch", {"job_id": job_id})

    def get_batch(self, job_id: int) -> Row | None:
        row = self.fetch_one("select_batch", {"job_id": job_id})
        if row is not None:
            row["input_header"] = _json_value(row["input_header"])
            row["output_header"] = _json_value(row["output_header"])
        return row

    def set_output_header(self, job_id: int, header: Sequence[str]) -> list[str] | None:
        """Fixes the job's CSV output header unless another slice did first; the header."""
        row = self.fetch_one("set_output_header", {"job_id": job_id, "header": json.dumps(header)})
        return None if row is None else list(_json_value(row["output_header"]))

    # -- processing -----------------------------------------------------------------------

    def claim_slices(
        self,
        worker_name: str,
        limit: int,
        *,
        include: str | None = None,
        exclude: str | None = None,
    ) -> list[Row]:
        """Takes up to `limit` queued slices of the most urgent processing batch job,
        with their batch's CSV headers.

        `include` / `exclude` are regular expressions on the job's class name.
        """
        params = {
            "worker_name": worker_name,
            "limit": limit,
            "now": self.now(),
            "include": include,
            "exclude": exclude,
        }
        rows = self.fetch_all("claim_slices", params)
        for row in rows:
            row["input_header"] = _json_value(row["input_header"])
            row["output_header"] = _json_value(row["output_header"])
        rows.sort(key=lambda row: row["position"])
        return rows

    def hand_back_slices(self, held: Sequence[SliceClaim]) -> int:
        """Returns held slices to the queue (a pausing or stopping worker)."""
        if not held:
            return 0
        claims = [Claim(h.id, h.lease) for h in held]
        with self.transaction():
            handed_back = self.execute_for_claims("hand_back_slices", claims, {})
            self.execute("notify_jobs", {})
        return handed_back

    def holds_slice(self, held: SliceClaim) -> bool:
        """Whether the slice is still running under this lease."""
        return self.fetch_one("slice_held", {"id": held.id, "lease": held.lease}) is not None

    def complete_slice(
        self, held: SliceClaim, output: bytes | None, output_count: int
    ) -> Row | None:
        """Completes a held slice with its output, counting its records as done.

        Returns the batch's job_id, records_done, record_count and failed_slices, or
        None if the slice is no longer held.
        """
        params = {
            "id": held.id,
            "lease": held.lease,
            "output": output,
            "output_count": output_count,
            "now": self.now(),
        }
        return self._complete_slice(params)

    def _complete_slice(self, params: dict[str, Any]) -> Row | None:
        return self.fetch_one("complete_slice", params)

    def set_batch_percent(self, job_id: int, percent: int) -> None:
        self.execute("set_batch_percent", {"job_id": job_id, "percent_complete": percent})

    def fail_slice(
        self,
        held: SliceClaim,
        *,
        processed: int,
        output: bytes | None,
        output_count: int,
        failed_record: int,
        exception: dict[str, Any],
    ) -> bool:
        params = {
            "id": held.id,
            "lease": held.lease,
            "processed": processed,
            "output": output,
            "output_count": output_count,
            "failed_record": failed_record,
            "exception": json.dumps(exception),
            "now": self.now(),
        }
        return self._fail_slice(params)

    def _fail_slice(self, params: dict[str, Any]) -> bool:
        return self.fetch_one("fail_slice", params) is not None

    def slices_left(self, job_id: int) -> tuple[bool, int, int | None]:
        """(any slice queued or running?, failed slices, record count if the upload ended)."""
        row = self.fetch_one("slices_left", {"job_id": job_id})
        assert row is not None
        count = row["record_count"]
        return bool(row["busy"]), int(row["failed"]), None if count is None else int(count)

    def start_batch_after(self, job_id: int, worker_name: str) -> Row | None:
        """Moves a finished batch job to sub_state after, held by `worker_name`; one wins."""
        return self.fetch_one("start_batch_after", {"job_id": job_id, "worker_name": worker_name})

    def fail_batch_job(
        self, job_id: int, failed: int, exception: dict[str, Any], worker_name: str
    ) -> bool:
        """Fails a batch job whose only slices left are `failed` failed ones; one wins."""
        params = {
            "job_id": job_id,
            "failed": failed,
            "exception": json.dumps(exception),
            "message": exception["message"],
            "worker_name": worker_name,
            "now": self.now(),
        }
        return self.execute("fail_batch_job", params) == 1

    def retry_batch_job(
        self,
        job_id: int,
        version: int,
        failed: int,
        run_at: datetime,
        message: str,
        worker_name: str,
    ) -> bool:
        """Requeues the failed slices of a batch job whose only slices left are `failed`
        failed ones, to be claimed from `run_at` on (a retry); one wins: the job must be
        at `version` still."""
        params = {
            "job_id": job_id,
            "version": version,
            "failed": failed,
            "run_at": run_at,
            "message": message,
            "worker_name": worker_name,
            "now": self.now(),
        }
        return self._retry_batch_job(params)

    def _retry_batch_job(self, params: dict[str, Any]) -> bool:
        return self.fetch_one("retry_batch_job", params) is not None

    def settle_candidates(self) -> list[int]:
        return [int(row["id"]) for row in self.fetch_all("settle_candidates", {})]

    def begin_batch_before(self, job_id: int, lease: int) -> None:
        self.execute("begin_batch_before", {"id": job_id, "lease": lease})

    def begin_batch_processing(self, job_id: int, lease: int) -> bool:
        """Releases a held batch job to the slice claims of every worker."""
        with self.transaction():
            moved = self.execute("begin_batch_processing", {"id": job_id, "lease": lease}) == 1
            if moved:
                self.restart_batch_run(job_id)
                self.execute("notify_jobs", {})
        return moved

    def restart_batch_run(self, job_id: int) -> None:
        """Starts measuring records/s afresh (processing began, resumed or was retried)."""
        self.execute("restart_batch_run", {"job_id": job_id})

    def requeue_failed_slices(self, job_id: int, position: int | None = None) -> int:
        """Requeues the job's failed slices (or the one at `position`); how many."""
        return self._requeue_failed_slices({"job_id": job_id, "position": position})

    def _requeue_failed_slices(self, params: dict[str, Any]) -> int:
        row = self.fetch_one("requeue_failed_slices", params)
        return int(row["n"]) if row else 0

    def drop_slices(self, job_id: int) -> int:
        return self.execute("drop_slices", {"job_id": job_id})

    def requeue_slices_of_dead_workers(self, timeout: timedelta, by: str) -> list[Row]:
        """Running slices of workers silent for `timeout` go back to the queue (never
        those of `by`, the reaping worker)."""
        params = {"cutoff": self.now() - timeout, "by": by}
        return self.fetch_all("requeue_slices_of_dead_workers", params)

    # -- what operators see ---------------------------------------------------------------

    def slice_counts(self, job_id: int) -> dict[str, tuple[int, int]]:
        """Per slice state: (slices, records)."""
        rows = self.fetch_all("slice_counts", {"job_id": job_id})
        return {row["state"]: (int(row["slices"]), int(row["records"])) for row in rows}

    def failed_slices(self, job_id: int, *, after: int = 0, limit: int = 100) -> list[Row]:
        params = {"job_id": job_id, "after": after, "limit": limit}
        return self.fetch_all("failed_slices", params)

    def failed_slices_by_exception(self, job_id: int) -> list[Row]:
        return self.fetch_all("failed_slices_by_exception", {"job_id": job_id})

    def failed_slice_records(
        self, job_id: int, *, after: int = 0, limit: int = 20, position: int | None = None
    ) -> list[Row]:
        params = {"job_id": job_id, "after": after, "limit": limit, "position": position}
        return self.fetch_all("failed_slice_records", params)

    def output_slices(self, job_id: int, *, after: int = 0, limit: int = 20) -> list[Row]:
        params = {"job_id": job_id, "after": after, "limit": limit}
        return self.fetch_all("output_slices", params)

    def workers_on_batches(self, job_ids: Sequence[int]) -> dict[int, int]:
        """How many workers run slices of each of these jobs right now."""
        rows = self.fetch_all("workers_on_batches", {"ids": self._array_param(job_ids)})
        return {int(row["job_id"]): int(row["workers"]) for row in rows}


def _json_or_none(value: Sequence[str] | None) -> str | None:
    return None if value is None else json.dumps(list(value))


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
