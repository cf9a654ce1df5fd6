"""Noop job classes the benchmarks enqueue and their workers import."""

from __future__ import annotations

import rocketjob as rj


class Noop(rj.Job):
    def perform(self) -> None:
        pass


class Greet(rj.Job):
    name: str = "world"
    count: int = 0

    def perform(self) -> None:
        pass
