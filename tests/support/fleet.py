"""A fleet of real `rocketjob worker` processes that a test starts, kills, freezes and thaws;
each may run inside a network namespace or under a skewed clock. Every process it started
is gone when the fleet closes, whatever the test did."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from processes import cli_env

import rocketjob as rj

# Job modules every worker of a fleet imports.
IMPORTS = ("--import", "chaos_jobs")
# One line per job start and end is too much at tens of thousands of jobs: warnings say
# what a test needs (reaping, outages, re-registering).
LOG_LEVEL = ("--log-level", "WARNING")


class WorkerProcess:
    """One worker process; its log is a file, so a chatty worker never blocks on a pipe."""

    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        log: Path,
        host: str = "",
        name: str | None = None,
    ) -> None:
        self.log = log
        self.host = host
        self.given_name = name
        with log.open("w") as out:
            self.popen = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid = self.popen.pid
        self.frozen = False

    def __repr__(self) -> str:
        return f"<worker {self.pid}{' on ' + self.host if self.host else ''}>"

    @property
    def name(self) -> str:
        """Its row's name: --name, or host:pid."""
        return self.given_name or f"{socket.gethostname()}:{self.pid}"

    def signal(self, signum: int) -> None:
        if self.popen.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.popen.wait(10)

    def freeze(self) -> None:
        self.signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        self.signal(signal.SIGCONT)
        self.frozen = False

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        if self.popen.poll() is None:
            if self.frozen:
                self.thaw()
            self.popen.kill()
        self.popen.wait(10)


class Fleet:
    """Starts worker processes on `database_url` (as a namespace sees it, per process)."""

    def __init__(self, database_url: str, log_dir: Path, env: dict[str, str] | None = None):
        self.database_url = database_url
        self.log_dir = log_dir
        self.env = env or {}
        self.processes: list[WorkerProcess] = []

    def start(
        self,
        *args: str,
        prefix: Sequence[str] = (),
        env: dict[str, str] | None = None,
        database_url: str | None = None,
        host: str = "",
        name: str | None = None,
    ) -> WorkerProcess:
        """`rocketjob worker ARGS…` importing the chaos jobs, after `prefix` (e.g. `ip netns
        exec NS`), with `env` added to the environment."""
        full_env = {**cli_env(database_url or self.database_url), **self.env, **(env or {})}
        named = ("--name", name) if name else ()
        rocketjob = [sys.executable, "-m", "rocketjob", *LOG_LEVEL]
        command = [*prefix, *rocketjob, "worker", *IMPORTS, *named, *args]
        log = self.log_dir / f"worker-{len(self.processes) + 1}.log"
        process = WorkerProcess(command, full_env, log, host, name)
        self.processes.append(process)
        return process

    def alive(self) -> list[WorkerProcess]:
        return [p for p in self.processes if p.poll() is None]

    def wait_registered(self, processes: Sequence[WorkerProcess], timeout: float = 30) -> None:
        """Waits until each process has a row in state running."""
        deadline = time.monotonic() + timeout
        pids = {p.pid for p in processes}
        while True:
            running = {w.pid for w in rj.list_workers() if w.state == "running"}
            if pids <= running:
                return
            for process in processes:
                if process.poll() is not None:
                    raise AssertionError(f"{process} exited early:\n{process.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"workers {sorted(pids - running)} never ran")
            time.sleep(0.05)

    def tails(self, lines: int = 30) -> str:
        """The end of every process's log, for a failing test's report."""
        parts = []
        for process in self.processes:
            text = process.output().splitlines()[-lines:]
            parts.append(f"--- {process} (exit {process.poll()})\n" + "\n".join(text))
        return "\n".join(parts)

    def close(self) -> None:
        for process in self.processes:
            process.close()
