"""What every part of the store runs on: named queries, transactions and the clock.

Backends (sqlite.py, postgres.py) implement these; the store's parts (base.py for jobs,
workers.py, batches.py) say which named query does what.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, NamedTuple

Row = dict[str, Any]
Clock = Callable[[], datetime]


class Claim(NamedTuple):
    """A worker's hold on a running job: writes go through only with the latest lease."""

    id: int
    lease: int


class Executor(ABC):
    clock: Clock

    @abstractmethod
    def fetch_all(self, query: str, params: dict[str, Any]) -> list[Row]: ...

    @abstractmethod
    def execute(self, query: str, params: dict[str, Any]) -> int:
        """Runs a named query; returns the number of rows it changed."""

    @abstractmethod
    def execute_for_claims(
        self, query: str, claims: Sequence[Claim], params: dict[str, Any]
    ) -> int:
        """Runs a query over many (id, lease) claims at once; the rows it changed."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Groups the calls made inside it into one transaction (this thread only)."""

    def claim_transaction(self) -> AbstractContextManager[None]:
        """A transaction for a claim and what must commit with it (a cron job's next
        instance), on the connections claims use."""
        return self.transaction()

    def now(self) -> datetime:
        return self.clock()

    def fetch_one(self, query: str, params: dict[str, Any]) -> Row | None:
        rows = self.fetch_all(query, params)
        return rows[0] if rows else None

    def _array_param(self, values: Sequence[Any]) -> Any:
        """A list as one parameter (SQLite passes it as JSON)."""
        return list(values)

    def _names_param(self, names: Sequence[str]) -> dict[str, Any]:
        """A list of names as one parameter (SQLite passes it as JSON)."""
        return {"names": list(names)}
