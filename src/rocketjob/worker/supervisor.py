"""`rocketjob worker --processes M`: M worker processes under one small supervisor.

The supervisor restarts a child that dies (not one that exits 0: it was told to stop or,
in burst mode, ran out of work) and forwards SIGTERM/SIGINT to every child.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

log = logging.getLogger("rocketjob.supervisor")

# A child that dies sooner than this after starting is restarted with growing delays.
QUICK_DEATH = 10.0
MAX_RESTART_DELAY = 30.0


class Child:
    def __init__(self, index: int, args: list[str], env: dict[str, str]) -> None:
        self.index = index
        self.args = args
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.restart_delay = 0.0
        self.restart_at = 0.0
        self.done = False

    def start(self) -> None:
        # Its own session: a terminal's Ctrl-C reaches the supervisor only, which forwards
        # it once (two would mean "hand everything back now").
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rocketjob", *self.args], env=self.env, start_new_session=True
        )
        self.started_at = time.monotonic()
        log.info("started worker process %d (pid %d)", self.index, self.process.pid)

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)


class Supervisor:
    def __init__(self, child_args: list[list[str]], env: dict[str, str]) -> None:
        """One child per argument list (`rocketjob ARGS…`)."""
        self.children = [Child(i + 1, args, env) for i, args in enumerate(child_args)]
        self._stopping = False
        self._wake = threading.Event()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._forward)
        signal.signal(signal.SIGINT, self._forward)
        for child in self.children:
            child.start()
        while not all(child.done for child in self.children):
            for child in self.children:
                self._check(child)
            self._wake.wait(0.2)
            self._wake.clear()
        return 0

    def _check(self, child: Child) -> None:
        if child.done:
            return
        process = child.process
        if process is None:  # waiting to be restarted
            if self._stopping:
                child.done = True
            elif time.monotonic() >= child.restart_at:
                child.start()
            return
        code = process.poll()
        if code is None:
            return
        if code == 0 or self._stopping:
            child.done = True
            return
        lived = time.monotonic() - child.started_at
        child.restart_delay = (
            min(max(child.restart_delay * 2, 1.0), MAX_RESTART_DELAY) if lived < QUICK_DEATH else 0
        )
        child.restart_at = time.monotonic() + child.restart_delay
        child.process = None
        log.warning(
            "worker process %d (pid %d) died with %s; restarting%s",
            child.index,
            process.pid,
            f"signal {-code}" if code < 0 else f"exit code {code}",
            f" in {child.restart_delay:.0f} s" if child.restart_delay else "",
        )

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True
        for child in self.children:
            child.signal(signum)
        self._wake.set()
