"""Noop job classes the benchmarks enqueue and their workers import."""

from __future__ import annotations

import os
import socket
import time

import rocketjob as rj


class Noop(rj.Job):
    def perform(self) -> None:
        pass


class Greet(rj.Job):
    name: str = "world"
    count: int = 0

    def perform(self) -> None:
        pass


class Ping(rj.Job):
    """Tells the benchmark, first thing, when a worker started it."""

    port: int
    seq: int

    def perform(self) -> None:
        started = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            out.sendto(f"{self.seq} {started}".encode(), ("127.0.0.1", self.port))


class UpcaseNames(rj.BatchJob):
    """The batch benchmark: CSV in, the name upper-cased, CSV out."""

    slice_size = int(os.environ.get("BENCH_SLICE", "5000"))
    input_format = "csv"
    output_format = "csv"

    def perform(self, record: dict[str, str]) -> dict[str, str]:
        record["name"] = record["name"].upper()
        return record
