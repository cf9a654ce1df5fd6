from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from manual_clock import ManualClock

import rocketjob as rj
from rocketjob import config
from rocketjob.store import Store


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Path]:
    """A dirmon root, configured for this process, with nothing in it."""
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    rj.configure(dirmon_roots=[root])
    yield root
    config._dirmon_roots = None


@pytest.fixture
def clock(store: Store) -> ManualClock:
    """The store's clock, moved on by hand: scans a second apart without waiting one."""
    store.clock = ticking = ManualClock()
    return ticking
