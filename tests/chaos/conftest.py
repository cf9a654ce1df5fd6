"""The chaos suite: real workers killed, frozen, cut off and starved of their database while
they drain real jobs; each case accounts for every job and prints its figures."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet import Fleet
from ledger import LEDGER_ENV, Ledger
from private_postgres import PrivatePostgres, started_server, unavailable

import rocketjob as rj
from chaos.case import Figures, Target, failed, failed_key, skip_or_fail
from rocketjob.store import open_store

SCALE_ENV = "ROCKETJOB_CHAOS_SCALE"
# A case's time limit at scale 1; bigger scales get proportionally more.
BASE_TIMEOUT = 150
_figures: list[Figures] = []


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
        item.stash[failed_key] = report.failed
    return report


# -- figures ----------------------------------------------------------------------------


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
        if failed(request):
            print(started.tails())
