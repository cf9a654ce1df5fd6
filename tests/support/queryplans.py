"""Reading PostgreSQL query plans: which scans a named query's plan makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rocketjob.store.postgres import CLAIMS, PostgresStore


def plan(store: PostgresStore, query: str, **params: Any) -> dict[str, Any]:
    """The plan of a named query on the connections the store runs that query on."""
    pool = store._claim_pool if query in CLAIMS else store._pool
    with pool.connection() as conn:
        row = conn.execute(f"EXPLAIN (FORMAT JSON) {store.queries[query]}", params).fetchone()
    assert row is not None
    (value,) = row.values()
    result: dict[str, Any] = (json.loads(value) if isinstance(value, str) else value)[0]["Plan"]
    return result


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def scans(node: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (n["Node Type"], n.get("Index Name") or n.get("Relation Name", ""))
        for n in nodes(node)
        if "Scan" in n["Node Type"]
    }
