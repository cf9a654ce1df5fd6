"""Job classes of the chaos tests (--import chaos_jobs): each writes to the ledger when its
perform() starts and ends, so every run of every job is counted."""

from __future__ import annotations

import time

from ledger import note

import rocketjob as rj


class Tracked(rj.Job):
    """Sleeps `seconds` between its start and end entries; with `steps`, in that many
    steps, saving progress after each (a write under the job's lease)."""

    seconds: float = 0.0
    steps: int = 0
    destroy_on_complete = False

    def perform(self) -> None:
        note("start", self._saved_id(), self.worker_name)
        if self.steps:
            for step in range(self.steps):
                time.sleep(self.seconds / self.steps)
                self.progress(100 * (step + 1) / self.steps)
        elif self.seconds:
            time.sleep(self.seconds)
        note("end", self._saved_id(), self.worker_name)


class TrackedBatch(rj.BatchJob):
    """Lines in, the same lines out, in slices of 20; each record (its own number, from 0)
    is noted once processed."""

    slice_size = 20
    output_format = "lines"
    seconds: float = 0.0

    def perform(self, record: str) -> str:
        if self.seconds:
            time.sleep(self.seconds)
        note("record", self._saved_id(), item=int(record))
        return record
