from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from rocketjob.mission_control import create_app
from rocketjob.store import Store


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    """Mission Control on the test's database (each backend), without sign-in."""
    with TestClient(create_app(users={}), follow_redirects=False) as test_client:
        yield test_client
