"""Job classes with processing windows, for the worker tests."""

from __future__ import annotations

from pathlib import Path

import rocketjob as rj


class NightlyReport(rj.Job):
    """Runs only on 29 February from 03:00 UTC, for one minute: closed whenever a test runs."""

    processing_window = rj.Window("0 3 29 2 *", minutes=1)
    path: str

    def perform(self) -> None:
        with Path(self.path).open("a") as out:
            out.write(f"{self.id}\n")


class AlwaysOpen(rj.Job):
    """Opens every minute for an hour: open at any moment."""

    processing_window = rj.Window("* * * * *", hours=1, timezone="Europe/Paris")
    destroy_on_complete = False
    path: str

    def perform(self) -> None:
        with Path(self.path).open("a") as out:
            out.write(f"{self.id}\n")
