"""Workers: processes that claim jobs and run them."""

from __future__ import annotations

from rocketjob.worker.process import Worker

__all__ = ["Worker"]
