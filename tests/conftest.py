from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rocketjob as rj
from rocketjob.store import Store, open_store

sys.path.insert(0, str(Path(__file__).parent / "support"))

from pg import PostgresServer

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# Tests of real worker processes racing against clocks (zombie timeouts, freezes, kills,
# outages) run one at a time: `make test` runs the rest on two processes (pytest -n 2),
# then these alone (pytest -m serial), so no other test's load skews their timing.
SERIAL = ("worker", "chaos")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        if item.path.relative_to(root).parts[0] in SERIAL:
            item.add_marker(pytest.mark.serial)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--chaos-scale",
        type=float,
        default=None,
        help="run the chaos cases this many times bigger (default $ROCKETJOB_CHAOS_SCALE or 1)",
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL test database; skipped when absent, unless CI=true demands it."""
    server = PostgresServer.connect()
    if server is None:
        reason = f"PostgreSQL is not reachable at {PostgresServer.admin_url()}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason}, and CI requires it")
        pytest.skip(reason)
    yield server
    server.drop_all()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of each backend, fresh for every test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rocketjob.sqlite3'}"
        store = open_store(url)
        store.migrate()
        store.close()
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.fresh_database()
    yield url
    server.drop(url)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each backend with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.fresh_database(migrated=False)
    yield url
    server.drop(url)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The configured store of this process, on each backend."""
    opened = open_store(database_url)
    rj.configure(store=opened)
    yield opened
    rj.configure(None)


@pytest.fixture
def backend(store: Store) -> str:
    return store.backend
