"""Batch job classes the tests upload and the worker processes import (--import batch_jobs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gates import wait_at

import rocketjob as rj


class Upcase(rj.BatchJob):
    """CSV in, CSV out: the name upper-cased."""

    slice_size = 100
    input_format = "csv"
    output_format = "csv"

    def perform(self, record: dict[str, str]) -> dict[str, str]:
        record["name"] = record["name"].upper()
        return record


class Squares(rj.BatchJob):
    """JSON lines of numbers in, JSON lines out. While the file at `broken` exists, numbers
    divisible by `fail_every` raise: deleting the file is the fix."""

    slice_size = 50
    input_format = "jsonl"
    output_format = "jsonl"
    broken: str = ""
    fail_every: int = 0

    def perform(self, record: int) -> dict[str, int]:
        if self.fail_every and record % self.fail_every == 0 and Path(self.broken).exists():
            raise ValueError(f"cannot square {record}")
        return {"n": record, "square": record * record}


class Shout(rj.BatchJob):
    """Raw lines in, lines out; blank lines are dropped from the output."""

    slice_size = 10
    output_format = "lines"

    def perform(self, record: str) -> str | None:
        return record.upper() if record else None


class Hooks(rj.BatchJob):
    """Writes to `log` when before_batch and after_batch run, and counts records."""

    slice_size = 10
    log: str
    output_format = "lines"

    def before_batch(self) -> None:
        with Path(self.log).open("a") as out:
            out.write("before\n")

    def after_batch(self) -> None:
        with Path(self.log).open("a") as out:
            out.write("after\n")

    def perform(self, record: str) -> str:
        return record


class Slow(rj.BatchJob):
    """Lines out as they came in, `seconds` per record: a batch that takes a while."""

    slice_size = 20
    output_format = "lines"
    seconds: float = 0.01

    def perform(self, record: str) -> str:
        time.sleep(self.seconds)
        return record


class Gated(rj.BatchJob):
    """Lines out as they came in, `seconds` per record; the record `hold` waits at the `gate`
    until the test opens it: its slice is provably running while an operator acts."""

    slice_size = 20
    output_format = "lines"
    gate: str
    hold: str = "110"
    seconds: float = 0.0

    def perform(self, record: str) -> str:
        if record == self.hold:
            wait_at(self.gate)
        time.sleep(self.seconds)
        return record


class Silent(rj.BatchJob):
    """Keeps no output."""

    slice_size = 7

    def perform(self, record: Any) -> None:
        pass


class Numbers(rj.BatchJob):
    """JSON numbers in, each as a line out, in slices of 1,000; every thousandth record
    waits `wait` seconds (long enough, and several workers share the slices)."""

    slice_size = 1_000
    input_format = "jsonl"
    output_format = "lines"
    wait: float = 0.0

    def perform(self, record: int) -> int:
        if self.wait and record % 1_000 == 0:
            time.sleep(self.wait)
        return record


class FailsAfter(rj.BatchJob):
    """after_batch() raises while the file at `broken` exists."""

    slice_size = 10
    output_format = "lines"
    broken: str

    def after_batch(self) -> None:
        if Path(self.broken).exists():
            raise RuntimeError("the report could not be sent")

    def perform(self, record: str) -> str:
        return record


class Echo(rj.BatchJob):
    """JSON lines in, each record out unchanged."""

    slice_size = 2
    input_format = "jsonl"
    output_format = "jsonl"

    def perform(self, record: Any) -> Any:
        return record
