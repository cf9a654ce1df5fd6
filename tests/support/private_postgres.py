"""A PostgreSQL server of the tests' own, in a temporary directory: tests may stop, restart
or cut it off without disturbing anyone else's sessions on the shared server."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import psycopg

from rocketjob.store import open_store

BIN_DIRS = (
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
)
# The OS user that owns the data directory when the tests run as root (initdb refuses root).
OWNER = "postgres"


def postgres_bin() -> Path | None:
    """The directory holding initdb and pg_ctl, or None."""
    for directory in (os.environ.get("ROCKETJOB_TEST_PG_BIN", ""), *BIN_DIRS):
        if directory and (Path(directory) / "initdb").exists():
            return Path(directory)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def unavailable() -> str | None:
    """Why no private server can run here, or None."""
    if postgres_bin() is None:
        return "initdb and pg_ctl are not installed (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            subprocess.run(["id", OWNER], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            return f"running as root needs an OS user {OWNER!r} to own the data directory"
    return None


def free_port() -> int:
    """A port nothing listens on, outside the ephemeral range the kernel hands out."""
    candidates = list(range(20_000, 30_000))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 30000")


class PrivatePostgres:
    """initdb into a temporary directory, trust authentication, listening on `addresses`
    (127.0.0.1 and whatever else a test's network needs) on a free port."""

    def __init__(self, addresses: Sequence[str] = ("127.0.0.1",), trusted: Sequence[str] = ()):
        self.addresses = list(addresses)
        self.trusted = ["127.0.0.1/32", *trusted]
        self.port = free_port()
        self.bin = postgres_bin()
        assert self.bin is not None, unavailable()
        self.root = Path(tempfile.mkdtemp(prefix="rocketjob-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._databases: list[str] = []
        self.template = f"rjchaos_{uuid.uuid4().hex[:6]}_template"

    # -- the server -----------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", OWNER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}")

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, OWNER, OWNER)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        settings = {
            "listen_addresses": f"'{','.join(self.addresses)}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "300",
            # Durable against a killed server (the OS keeps what was written), which is
            # all these tests do to it; no fsync keeps a 2-core machine free for the work.
            "fsync": "off",
            "full_page_writes": "off",
            "shared_buffers": "64MB",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.writelines(f"host all all {network} trust\n" for network in self.trusted)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases ------------------------------------------------------------------------

    def url(self, database: str = "postgres", host: str = "127.0.0.1") -> str:
        return f"postgresql://postgres@{host}:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(sql)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def fresh_database(self) -> str:
        """The name of a new, migrated database."""
        if not self._databases:
            self.execute(f'CREATE DATABASE "{self.template}"')
            store = open_store(self.url(self.template))
            store.migrate()
            store.close()
            self._databases.append(self.template)
        name = f"{self.template.removesuffix('_template')}_{len(self._databases)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self._databases.append(name)
        return name

    def drop(self, name: str) -> None:
        if self.running():
            self.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def terminate_sessions(self, name: str) -> int:
        """Ends every session on database `name` (but this one); how many there were."""
        rows = self.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        return int(rows[0][0])  # type: ignore[call-overload]


def started_server(
    addresses: Sequence[str] = ("127.0.0.1",), trusted: Sequence[str] = ()
) -> PrivatePostgres:
    """A new private server, initialised and running; `destroy()` it when done."""
    server = PrivatePostgres(addresses, trusted)
    try:
        server.init()
        server.start()
    except BaseException:
        server.destroy()
        raise
    return server
