"""Retry settings are checked when a job class is defined; the delay has a safe default."""

from __future__ import annotations

import logging

import pytest

import rocketjob as rj
from rocketjob.behaviours import retry


def test_a_negative_retry_limit_is_refused_naming_the_class_and_the_setting() -> None:
    with pytest.raises(rj.ValidationError) as refused:

        class Charge(rj.Job):
            retry_limit = -1

    assert "retry settings of" in str(refused.value)
    assert "Charge" in str(refused.value)
    assert dict(refused.value.errors) == {"retry_limit": "must be a whole number ≥ 0, not -1"}


@pytest.mark.parametrize("retry_on", [TimeoutError, ("TimeoutError",), (int,)])
def test_retry_on_must_be_a_tuple_of_exception_classes(retry_on: object) -> None:
    with pytest.raises(rj.ValidationError, match="retry_on: must be a tuple of exception"):
        type("Refund", (rj.Job,), {"retry_on": retry_on, "__module__": __name__})


def test_the_default_delay_grows_as_the_fourth_power_with_some_jitter() -> None:
    for attempt, base in ((1, 6), (2, 21), (3, 86), (5, 630)):
        delays = [retry.default_delay(attempt) for _ in range(200)]
        assert all(0.9 * base <= d <= 1.1 * base for d in delays)
        assert len(set(delays)) > 1  # jobs that failed together do not all come back at once


class Odd(rj.Job):
    retry_limit = 3
    seconds: float = 0.0

    def retry_delay(self, attempt: int) -> float:
        return self.seconds


@pytest.mark.parametrize("seconds", [-1.0, float("nan"), float("inf")])
def test_an_unusable_delay_falls_back_to_the_default_and_says_why(
    seconds: float, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "rocketjob.job"):
        assert 5.4 <= retry.delay(Odd(seconds=seconds), 1) <= 6.6
    assert "retry_delay(1) is unusable" in caplog.text
