from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import rocketjob as rj
from rocketjob import config


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Path]:
    """A dirmon root, configured for this process, with nothing in it."""
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    rj.configure(dirmon_roots=[root])
    yield root
    config._dirmon_roots = None
