"""Running the real `rocketjob` command, and waiting on conditions instead of sleeping."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

SUPPORT = Path(__file__).parent
T = TypeVar("T")


def cli_env(database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SUPPORT), env.get("PYTHONPATH")]))
    env.pop("ROCKETJOB_DATABASE_URL", None)
    if database_url:
        env["ROCKETJOB_DATABASE_URL"] = database_url
    return env


def rocketjob(
    *args: str, database_url: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Runs `rocketjob ARGS…` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "rocketjob", *args],
        env=cli_env(database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_rocketjob(*args: str, database_url: str | None = None) -> subprocess.Popen[str]:
    """Starts `rocketjob ARGS…` in the background (output kept for the test to read)."""
    return subprocess.Popen(
        [sys.executable, "-m", "rocketjob", *args],
        env=cli_env(database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until(condition: Callable[[], T], timeout: float = 30, message: str = "") -> T:
    """Polls `condition` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message or condition}")
        time.sleep(0.02)
