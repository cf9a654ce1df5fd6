"""The PostgreSQL server the tests use: one migrated database, emptied for each test."""

from __future__ import annotations

import os
import uuid

import psycopg

from rocketjob.store import open_store

ADMIN_URL_ENV = "ROCKETJOB_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class PostgresServer:
    def __init__(self, admin_url: str) -> None:
        self.admin = admin_url
        self.prefix = f"rjtest_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_template"
        self._databases: list[str] = []
        self._execute(f'CREATE DATABASE "{self.template}"')
        store = open_store(self.url(self.template))
        store.migrate()
        store.close()

    @staticmethod
    def admin_url() -> str:
        return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)

    @classmethod
    def connect(cls) -> PostgresServer | None:
        try:
            with psycopg.connect(cls.admin_url(), connect_timeout=3):
                pass
        except psycopg.OperationalError:
            return None
        return cls(cls.admin_url())

    def url(self, database: str) -> str:
        base, _, _ = self.admin.rpartition("/")
        return f"{base}/{database}"

    def _execute(self, sql: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def fresh_database(self, *, migrated: bool = True) -> str:
        """A new database: a copy of the migrated template, or empty."""
        name = f"{self.prefix}_{len(self._databases)}"
        template = f' TEMPLATE "{self.template}"' if migrated else ""
        self._execute(f'CREATE DATABASE "{name}"{template}')
        self._databases.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rpartition("/")[2]
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.remove(name)

    def drop_all(self) -> None:
        for name in [*self._databases, self.template]:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
