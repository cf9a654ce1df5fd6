"""Shared bits of the benchmark scripts: databases to run on, and one JSON line per figure."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

PG_ADMIN_URL = os.environ.get(
    "ROCKETJOB_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def emit(figure: str, **values: Any) -> None:
    """Prints one measurement as a JSON line."""
    print(json.dumps({"figure": figure, **values}), flush=True)


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh, empty database URL of the backend, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"rjbench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    base, _, query = PG_ADMIN_URL.partition("?")
    try:
        yield f"{base.rpartition('/')[0]}/{name}" + (f"?{query}" if query else "")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def backends() -> list[str]:
    chosen = sys.argv[1:] or ["sqlite", "postgres"]
    return [b for b in chosen if b in ("sqlite", "postgres")]
