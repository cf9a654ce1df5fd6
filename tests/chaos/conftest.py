"""The chaos suite: real workers killed, frozen, cut off and starved of their database while
they drain real jobs; each case accounts for every job and prints its figures."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fleet import Fleet
from ledger import LEDGER_ENV, Ledger
from private_postgres import PrivatePostgres, started_server, unavailable

import rocketjob as rj
from chaos.accounting import Accounts
from rocketjob.store import open_store

SCALE_ENV = "ROCKETJOB_CHAOS_SCALE"
# A case's time limit at scale 1; bigger scales get proportionally more.
BASE_TIMEOUT = 150
_figures: list[Figures] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skips a case this machine cannot run; under CI=true that is a failure."""
    if in_ci():
        pytest.fail(f"{reason}, and CI requires it")
    pytest.skip(reason)


def chaos_scale(config: pytest.Config) -> float:
    given = config.getoption("--chaos-scale", None) or os.environ.get(SCALE_ENV) or 1
    return max(float(given), 0.1)


@pytest.fixture(scope="session")
def scale(pytestconfig: pytest.Config) -> float:
    """How much bigger than the normal run the cases are (`make chaos`: 10)."""
    return chaos_scale(pytestconfig)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    limit = int(BASE_TIMEOUT * max(chaos_scale(config), 1))
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.timeout(limit))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_failed] = report.failed
    return report


_failed = pytest.StashKey[bool]()


# -- figures ----------------------------------------------------------------------------


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


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    taken = Figures(case=request.node.name)
    yield taken
    taken.duration_s = time.monotonic() - taken.started
    _figures.append(taken)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _figures:
        terminalreporter.section("chaos figures")
        for taken in _figures:
            terminalreporter.write_line(taken.line())


# -- databases --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this run's own, on a free port: cases may stop it, cut off
    its sessions or load it without disturbing anyone else on the shared server."""
    reason = unavailable()
    if reason:
        skip_or_fail(f"no private PostgreSQL server: {reason}")
    server = started_server()
    yield server
    server.destroy()


@dataclass
class Target:
    """The database a case runs on, and its ledger."""

    backend: str
    url: str
    ledger: Ledger
    server: PrivatePostgres | None = None
    database: str = ""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """A fresh, migrated database of each backend (PostgreSQL: on the private server),
    configured in this process, with an empty ledger."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rocketjob.sqlite3'}"
        store = open_store(url)
        store.migrate()
        found = Target("sqlite", url, Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite3'}"))
    else:
        server: PrivatePostgres = request.getfixturevalue("private_postgres")
        database = server.fresh_database()
        url = server.url(database)
        store = open_store(url)
        found = Target("postgres", url, Ledger(url), server, database)
    rj.configure(store=store)
    try:
        yield found
    finally:
        rj.configure(None)
        store.close()
        if found.server is not None:
            found.server.drop(found.database)


@pytest.fixture
def fleet(request: pytest.FixtureRequest, target: Target, tmp_path: Path) -> Iterator[Fleet]:
    """Worker processes on the target database, writing to its ledger."""
    logs = tmp_path / "logs"
    logs.mkdir()
    started = Fleet(target.url, logs, env={LEDGER_ENV: target.ledger.url})
    try:
        yield started
    finally:
        started.close()
        if request.node.stash.get(_failed, False):
            print(started.tails())
