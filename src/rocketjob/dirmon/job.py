"""DirmonJob: the built-in cron job that scans every enabled dirmon entry.

Its schedule shows, and is steered, on the Cron page like any cron job's. It runs every
10 seconds unless `$ROCKETJOB_DIRMON_CRON` (read when a worker starts) gives another
schedule, with seconds first: "*/30 * * * * *".
"""

from __future__ import annotations

import os

from rocketjob.config import get_store
from rocketjob.dirmon.scan import Scanner
from rocketjob.jobs import Job, process_name

DIRMON_CRON_ENV = "ROCKETJOB_DIRMON_CRON"


class DirmonJob(Job):
    # Its public name: `rocketjob.jobs.DirmonJob`.
    __module__ = "rocketjob.jobs"

    cron = os.environ.get(DIRMON_CRON_ENV) or "*/10 * * * * *"
    priority = 10
    description = "dirmon: scans the enabled dirmon entries"

    def perform(self) -> None:
        Scanner(get_store(), self.worker_name or process_name()).scan_all()
