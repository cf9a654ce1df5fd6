"""Job classes that fail and are retried (--import retrying_jobs)."""

from __future__ import annotations

from pathlib import Path

import rocketjob as rj


def runs(path: str) -> int:
    """Counts a run in the file at `path`; how many there were, this one included."""
    with Path(path).open("a") as out:
        out.write("+")
    return len(Path(path).read_text())


class Flaky(rj.Job):
    """Fails with TimeoutError until its `succeed_on`-th run."""

    retry_limit = 5
    destroy_on_complete = False
    path: str
    succeed_on: int = 3

    def retry_delay(self, attempt: int) -> float:
        return 0.05 * attempt

    def perform(self) -> None:
        if runs(self.path) < self.succeed_on:
            raise TimeoutError("the payment gateway did not answer")


class OnlyTimeouts(rj.Job):
    """Retries timeouts only; raises ValueError."""

    retry_limit = 5
    retry_on = (TimeoutError,)
    path: str

    def retry_delay(self, attempt: int) -> float:
        return 0.0

    def perform(self) -> None:
        runs(self.path)
        raise ValueError("the card number is wrong")


class BadDelay(rj.Job):
    """Its retry_delay raises: the default delay is used."""

    retry_limit = 1
    path: str

    def retry_delay(self, attempt: int) -> float:
        raise ZeroDivisionError("oops")

    def perform(self) -> None:
        runs(self.path)
        raise TimeoutError("again")


class FlakyBatch(rj.BatchJob):
    """Records ending in 5 (one a slice) fail until their `succeed_on`-th try."""

    slice_size = 10
    output_format = "lines"
    retry_limit = 3
    path: str
    succeed_on: int = 2

    def retry_delay(self, attempt: int) -> float:
        return 0.05

    def perform(self, record: str) -> str:
        if int(record) % 10 == 5 and runs(f"{self.path}.{record}") < self.succeed_on:
            raise TimeoutError(f"record {record} timed out")
        return record
