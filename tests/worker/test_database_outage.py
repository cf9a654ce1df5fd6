"""PostgreSQL restarted under running workers: they reconnect and lose nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from processes import finish, wait_until
from sample_jobs import Record
from workers import running_worker, wait_for_worker

import rocketjob as rj
from rocketjob.store import Store

pytestmark = pytest.mark.postgres


def restart_postgres(url: str) -> None:
    """Restarts the server, and makes sure it did: a restart that never happened would let
    the test pass without the workers having had to reconnect."""
    before = started_at(url)
    versions = os.listdir("/etc/postgresql")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "restart"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert started_at(url) > before, "PostgreSQL did not restart"


def started_at(url: str) -> datetime:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


def completed() -> int:
    try:
        return rj.Job.counts()["completed"]
    except rj.DatabaseUnavailable:
        return -1  # this process's own connections are being replaced


@pytest.fixture
def restartable(database_url: str) -> str:
    # Restarting the server breaks every other session on it: CI runs this (alone on its
    # machine); a developer sharing the server asks for it explicitly.
    if not (os.environ.get("CI") or os.environ.get("ROCKETJOB_TEST_RESTART_POSTGRES")):
        pytest.skip("restarts PostgreSQL: runs under CI=true or ROCKETJOB_TEST_RESTART_POSTGRES=1")
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server restart: nothing to restart on SQLite")
    if os.geteuid() != 0:
        pytest.skip("needs root to restart the local PostgreSQL cluster")
    if not shutil.which("pg_ctlcluster") or not os.path.isdir("/etc/postgresql"):
        if os.environ.get("CI"):
            pytest.fail("CI must be able to restart PostgreSQL")
        pytest.skip("pg_ctlcluster is not available")
    return database_url


def test_workers_reconnect_after_postgres_restarts_and_run_every_job_once(
    store: Store, restartable: str, tmp_path: Path
) -> None:
    out = tmp_path / "ran.txt"
    ids = Record.create_many([{"path": str(out), "seconds": 0.004}] * 3000)
    args = ("--threads", "4", "--poll-interval", "0.2")
    with (
        running_worker(restartable, *args) as first,
        running_worker(restartable, *args) as second,
    ):
        for worker in (first, second):
            wait_for_worker(worker.pid)
        wait_until(lambda: completed() >= 300, message="some jobs done")
        restart_postgres(restartable)
        wait_until(lambda: completed() == 3000, timeout=60, message="every job done")
        for worker in (first, second):
            worker.send_signal(signal.SIGTERM)
            finish(worker)
    # Whether a worker logged the outage depends on where the restart caught it (a statement
    # retried on a fresh connection says nothing); what must hold is that both stayed up
    # (finish: exit 0 on SIGTERM) and ran every job once.
    ran = [int(line) for line in out.read_text().split()]
    assert sorted(ran) == ids
