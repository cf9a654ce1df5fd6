"""Noop job classes the benchmarks enqueue and their workers import."""

from __future__ import annotations

import os

import rocketjob as rj


class Noop(rj.Job):
    def perform(self) -> None:
        pass


class Greet(rj.Job):
    name: str = "world"
    count: int = 0

    def perform(self) -> None:
        pass


class UpcaseNames(rj.BatchJob):
    """The batch benchmark: CSV in, the name upper-cased, CSV out."""

    slice_size = int(os.environ.get("BENCH_SLICE", "5000"))
    input_format = "csv"
    output_format = "csv"

    def perform(self, record: dict[str, str]) -> dict[str, str]:
        record["name"] = record["name"].upper()
        return record
