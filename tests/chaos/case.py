"""What every chaos case shares: its figures, the database it runs on, and how it reacts
to a machine that cannot run it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from ledger import Ledger
from private_postgres import PrivatePostgres

from chaos.accounting import Accounts

# Set when a case's body failed: its fixtures then show the workers' logs.
failed_key = pytest.StashKey[bool]()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skips a case this machine cannot run; under CI=true that is a failure."""
    if in_ci():
        pytest.fail(f"{reason}, and CI requires it")
    pytest.skip(reason)


def failed(request: pytest.FixtureRequest) -> bool:
    """Whether the test body failed (in a fixture's teardown: show the workers' logs)."""
    return request.node.stash.get(failed_key, False)


@dataclass
class Figures:
    """What one case measured, printed as one line at the end of the run."""

    case: str
    unit: str = "jobs"  # or records, for a batch
    jobs: int = 0
    lost: int = 0
    twice: int = 0
    explained: int = 0
    requeue_s: float | None = None
    duration_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def take(self, accounts: Accounts) -> None:
        self.jobs += accounts.jobs
        self.lost += len(accounts.lost)
        self.twice += len(accounts.twice)
        self.explained += len(accounts.explained)
        if accounts.requeue_s is not None:
            self.requeue_s = max(self.requeue_s or 0.0, accounts.requeue_s)

    def line(self) -> str:
        requeue = "-" if self.requeue_s is None else f"{self.requeue_s:.1f}"
        extra = "".join(f" {key}={value}" for key, value in self.extra.items())
        return (
            f"{self.case}: {self.unit}={self.jobs} lost={self.lost} run_twice={self.twice} "
            f"reruns_explained={self.explained} requeue_s={requeue} "
            f"duration_s={self.duration_s:.1f}{extra}"
        )


@dataclass
class Target:
    """The database a case runs on, and its ledger."""

    backend: str
    url: str
    ledger: Ledger
    server: PrivatePostgres | None = None
    database: str = ""
