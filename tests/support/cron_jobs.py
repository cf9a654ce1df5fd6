"""Cron job classes the tests' workers import (--import cron_jobs). Each run appends its
job id to the file named by $ROCKETJOB_TEST_CRON_LOG."""

from __future__ import annotations

import os
from pathlib import Path

import rocketjob as rj


def note_run(job_id: int | None) -> None:
    with Path(os.environ["ROCKETJOB_TEST_CRON_LOG"]).open("a") as out:
        out.write(f"{job_id}\n")


class EveryMinute(rj.Job):
    cron = "* * * * *"
    destroy_on_complete = False

    def perform(self) -> None:
        note_run(self.id)


class NineInParis(rj.Job):
    cron = "0 9 * * *"
    cron_timezone = "Europe/Paris"
    priority = 10

    def perform(self) -> None:
        note_run(self.id)


class NewYear(rj.Job):
    """Due once a year: its runs in a test come from Run now alone."""

    cron = "0 0 1 1 *"
    destroy_on_complete = False

    def perform(self) -> None:
        note_run(self.id)
