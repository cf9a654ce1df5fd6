"""Job classes of the quickstart."""

from __future__ import annotations

import rocketjob as rj


class Hello(rj.Job):
    name: str = "world"
    destroy_on_complete = False

    def perform(self) -> None:
        self.progress(50)
        print(f"hello, {self.name}")


class Fragile(rj.Job):
    destroy_on_complete = False

    def perform(self) -> None:
        raise RuntimeError("the printer is on fire")
