"""Throttled job classes, for the worker tests."""

from __future__ import annotations

import time

import rocketjob as rj


class Charge(rj.Job):
    """At most 3 running at once, on every worker together."""

    throttle_running_jobs = 3
    destroy_on_complete = False
    seconds: float = 0.05

    def perform(self) -> None:
        time.sleep(self.seconds)


class Refund(rj.Job):
    """Shares a group with Payout: at most 2 of either running at once."""

    throttle_running_jobs = 2
    throttle_group = "payments"
    destroy_on_complete = False
    seconds: float = 0.05

    def perform(self) -> None:
        time.sleep(self.seconds)


class Payout(rj.Job):
    throttle_running_jobs = 2
    throttle_group = "payments"
    destroy_on_complete = False
    seconds: float = 0.05

    def perform(self) -> None:
        time.sleep(self.seconds)


class Ping(rj.Job):
    """Not throttled: runs beside the throttled ones at full speed."""

    destroy_on_complete = False

    def perform(self) -> None:
        pass
