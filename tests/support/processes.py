"""Running the real `rocketjob` command, and waiting on conditions instead of sleeping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
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


class Background:
    """A `rocketjob` process running in the background; its output goes to a file, so a
    chatty process never blocks on a full pipe."""

    def __init__(self, args: tuple[str, ...], database_url: str | None) -> None:
        self._log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives as long as the process
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "rocketjob", *args],
            env=cli_env(database_url),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.pid = self.popen.pid

    def send_signal(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float = 30) -> int:
        return self.popen.wait(timeout=timeout)

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def close(self) -> None:
        if self.popen.poll() is None:
            self.kill()
        self._log.close()


def start_rocketjob(*args: str, database_url: str | None = None) -> Background:
    """Starts `rocketjob ARGS…` in the background."""
    return Background(args, database_url)


def finish(process: Background, timeout: float = 30) -> str:
    """Waits for the process to exit 0 and returns its output."""
    code = process.wait(timeout)
    output = process.output()
    assert code == 0, output
    return output


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
