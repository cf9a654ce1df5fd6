"""Job classes the tests enqueue and the worker processes import (--import sample_jobs)."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from gates import wait_at

import rocketjob as rj


class Noop(rj.Job):
    def perform(self) -> None:
        pass


class Record(rj.Job):
    """Appends its id to a file: the order in which workers ran the jobs."""

    path: str
    seconds: float = 0.0
    destroy_on_complete = False

    def perform(self) -> None:
        time.sleep(self.seconds)
        with Path(self.path).open("a") as out:
            out.write(f"{self.id}\n")


class Kept(rj.Job):
    destroy_on_complete = False

    def perform(self) -> None:
        pass


class Fails(rj.Job):
    message: str = "boom"

    def perform(self) -> None:
        raise ValueError(self.message)


class Slow(rj.Job):
    """Works in steps, reporting progress and checking for operators between them; with a
    `gate`, waits there after the first step: provably running until the test opens it."""

    steps: int = 50
    step_seconds: float = 0.1
    gate: str = ""
    destroy_on_complete = False
    pausable = True

    def perform(self) -> None:
        for step in range(self.steps):
            time.sleep(self.step_seconds)
            self.progress(100 * (step + 1) / self.steps)
            self.checkpoint()
            if step == 0 and self.gate:
                wait_at(self.gate)


class Typed(rj.Job):
    name: str
    count: int = 0
    when: datetime | None = None
    day: date | None = None
    amount: Decimal = Decimal("0")
    tags: list[str] = []
    extra: dict[str, int] = {}

    def perform(self) -> None:
        pass
