"""Gates: a job waits at one in its worker until the test opens it, so an operator acts on
work that is provably running instead of work that is probably still running."""

from __future__ import annotations

import time
from pathlib import Path

from processes import wait_until

# A job never waits at a gate longer than this: a test that forgot to open it still ends.
GATE_TIMEOUT = 60.0


class Gate:
    """A file in `directory`: the job marks that it reached the gate, then waits for it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "gate"

    def __str__(self) -> str:
        return str(self.path)

    def wait_reached(self, times: int = 1, timeout: float = 60) -> None:
        """Waits until jobs reached the gate `times` times in all."""
        wait_until(lambda: reached(str(self)) >= times, timeout, f"{times} arrival(s) at the gate")

    def open(self) -> None:
        self.path.touch()


def reached(gate: str) -> int:
    marks = Path(f"{gate}.reached")
    return len(marks.read_text()) if marks.exists() else 0


def wait_at(gate: str) -> None:
    """In the job: marks an arrival, then waits until the gate is open."""
    with Path(f"{gate}.reached").open("a") as marks:
        marks.write("+")
    deadline = time.monotonic() + GATE_TIMEOUT
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the gate {gate} never opened")
        time.sleep(0.01)
