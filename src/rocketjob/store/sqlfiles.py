"""Reading the SQL files: named queries and numbered migrations, per backend."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
_MIGRATION = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def _sql_dir(backend: str) -> resources.abc.Traversable:
    return resources.files("rocketjob.store") / "sql" / backend


def load_queries(backend: str) -> dict[str, str]:
    """The queries of `sql/<backend>/queries.sql`, keyed by their `-- name:` header."""
    text = (_sql_dir(backend) / "queries.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice in {backend}/queries.sql")
        queries[name] = body.strip().rstrip(";")
    return queries


def load_migrations(backend: str) -> list[Migration]:
    """The migrations of `sql/<backend>/migrations/`, in version order."""
    migrations = []
    for entry in (_sql_dir(backend) / "migrations").iterdir():
        match = _MIGRATION.match(entry.name)
        if match:
            version, name = int(match.group(1)), match.group(2)
            migrations.append(Migration(version, name, entry.read_text(encoding="utf-8")))
    migrations.sort(key=lambda m: m.version)
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"{backend} migrations are not numbered 1..n: {versions}")
    return migrations
