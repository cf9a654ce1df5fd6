"""Job classes with callbacks, and async jobs (--import callback_jobs).

Each writes what it does, a line at a time, to the file at its `path`: the test reads the
order back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import rocketjob as rj


def note(path: str, line: str) -> None:
    with Path(path).open("a") as out:
        out.write(f"{line}\n")


class Audited(rj.Job):
    """Notes every callback; `fail_in` names a step that raises on the first attempt,
    `act` an action the job takes on itself in before_perform."""

    destroy_on_complete = False
    retry_limit = 1
    path: str
    fail_in: str = ""
    act: str = ""

    def retry_delay(self, attempt: int) -> float:
        return 0.05

    def step(self, name: str) -> None:
        note(self.path, f"{name} {self.attempt}")
        if name == self.fail_in and self.attempt == 0:
            raise ValueError(f"{name} broke")

    def before_perform(self) -> None:
        self.step("before_perform")
        if self.act:
            getattr(self, self.act)()

    def around_perform(self, perform: Callable[[], Any]) -> Any:
        self.step("around_perform")
        perform()
        self.step("around_perform returned")

    def perform(self) -> None:
        self.step("perform")

    def after_perform(self) -> None:
        self.step("after_perform")

    def on_failure(self, exception: BaseException) -> None:
        note(self.path, f"on_failure {type(exception).__name__}: {exception}")


class Charged(Audited):
    """Adds to its parent's callbacks through super()."""

    retry_limit = 0

    def before_perform(self) -> None:
        note(self.path, "charged before")
        super().before_perform()

    def after_perform(self) -> None:
        super().after_perform()
        note(self.path, "charged after")

    def on_failure(self, exception: BaseException) -> None:
        super().on_failure(exception)
        raise RuntimeError("on_failure broke too")


class AuditedBatch(rj.BatchJob):
    """Notes each slice's records between before_slice and after_slice; the slice holding
    `fail_at` fails in after_slice."""

    slice_size = 2
    output_format = "lines"
    path: str
    fail_at: str = ""

    def before_slice(self) -> None:
        self.records: list[str] = []

    def perform(self, record: str) -> str:
        self.records.append(record)
        return record

    def after_slice(self) -> None:
        note(self.path, f"slice {' '.join(self.records)}")
        if self.fail_at in self.records:
            raise ValueError(f"after_slice broke at {self.fail_at}")

    def on_failure(self, exception: BaseException) -> None:
        note(self.path, f"on_failure {exception}")


class Sleeper(rj.Job):
    """Sleeps on the event loop."""

    seconds: float = 1.0

    async def perform(self) -> None:
        await asyncio.sleep(self.seconds)


class AsyncSteps(rj.Job):
    """Works in steps on the event loop, reporting progress and checking for operators."""

    destroy_on_complete = False
    pausable = True
    path: str
    steps: int = 100
    step_seconds: float = 0.05

    async def perform(self) -> None:
        for step in range(self.steps):
            await asyncio.sleep(self.step_seconds)
            await self.aprogress(100 * (step + 1) / self.steps)
            await self.acheckpoint()
            note(self.path, f"step {step}")


class AsyncFlaky(rj.Job):
    """Fails with TimeoutError on its first two runs; async and sync callbacks note them."""

    destroy_on_complete = False
    retry_limit = 3
    path: str

    def retry_delay(self, attempt: int) -> float:
        return 0.05

    async def before_perform(self) -> None:
        await asyncio.sleep(0)
        note(self.path, f"before {self.attempt}")

    async def around_perform(self, perform: Callable[[], Awaitable[None]]) -> None:
        note(self.path, "around")
        await perform()
        note(self.path, "around returned")

    async def perform(self) -> None:
        note(self.path, f"perform {self.attempt}")
        if self.attempt < 2:
            raise TimeoutError("the gateway did not answer")

    def after_perform(self) -> None:
        note(self.path, "after")

    async def on_failure(self, exception: BaseException) -> None:
        note(self.path, f"on_failure {exception}")


class AsyncRecord(rj.Job):
    """Notes its id when it ends; with a `gate`, waits on the event loop until it opens."""

    destroy_on_complete = False
    path: str
    gate: str = ""

    async def perform(self) -> None:
        if self.gate:
            with Path(f"{self.gate}.reached").open("a") as marks:
                marks.write("+")  # as gates.wait_at() marks an arrival
            while not Path(self.gate).exists():
                await asyncio.sleep(0.01)
        note(self.path, str(self.id))


class AsyncNoop(rj.Job):
    async def perform(self) -> None:
        pass
