"""Job classes dirmon entries start in tests (--import dirmon_jobs)."""

from __future__ import annotations

import rocketjob as rj


class Ingest(rj.Job):
    """Takes the path of its file; keeps it after completion, so tests can read it."""

    upload_file_name: str = ""
    customer: str = "acme"
    batch_size: int = 10
    destroy_on_complete = False

    def perform(self) -> None:
        pass


class NoFileField(rj.Job):
    def perform(self) -> None:
        pass


class Lines(rj.BatchJob):
    """Lines in, nothing out; one record a slice, so an upload flushes while it goes."""

    slice_size = 1
    input_format = None
    output_format = None
    destroy_on_complete = False

    def perform(self, record: str) -> None:
        pass
