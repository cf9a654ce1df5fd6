"""Imported first by Python processes that run under libfaketime with a fake wall clock and
a true monotonic one (FAKETIME_DONT_FAKE_MONOTONIC=1): libfaketime then breaks time.sleep(),
whose absolute monotonic deadline it shifts by the fake offset (EINVAL, or sleeping minutes
too long). Waits on a lock with a timeout are left alone by it, so sleeps use one."""

from __future__ import annotations

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
