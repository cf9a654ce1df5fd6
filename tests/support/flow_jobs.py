"""Job classes for singletons and dependencies (workers import them: --import flow_jobs)."""

from __future__ import annotations

from pathlib import Path

import rocketjob as rj


class Nightly(rj.Job):
    """One at a time, whatever its fields."""

    singleton = True
    destroy_on_complete = False

    def perform(self) -> None:
        pass


class Charge(rj.Job):
    """One at a time per account (a unique job)."""

    account: int
    destroy_on_complete = False

    def singleton_key(self) -> str:
        return str(self.account)

    def perform(self) -> None:
        pass


class Step(rj.Job):
    """Appends its name to a file; fails while the file `<path>.fail-<name>` exists."""

    path: str
    name: str
    destroy_on_complete = False

    def perform(self) -> None:
        if Path(f"{self.path}.fail-{self.name}").exists():
            raise RuntimeError(f"step {self.name} told to fail")
        with Path(self.path).open("a") as out:
            out.write(f"{self.name}\n")


class Gone(rj.Job):
    """Destroyed on completion, as most jobs are."""

    def perform(self) -> None:
        pass
