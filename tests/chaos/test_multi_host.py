"""Workers on several hosts, for real: network namespaces made by the test, each a host with
two worker processes, all on the tests' own PostgreSQL server across a bridge. The hosts
drain jobs, one is cut off and comes back, and hosts whose clocks disagree share the work."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from chaos_jobs import Tracked
from fleet import Fleet, WorkerProcess
from hosts import Host, Lab, unavailable
from ledger import LEDGER_ENV, Ledger
from private_postgres import PrivatePostgres, started_server
from private_postgres import unavailable as no_postgres
from processes import cli_env, wait_until

import rocketjob as rj
from chaos.accounting import Disruption, account_jobs, held_jobs, job_histories
from chaos.case import Figures, failed, skip_or_fail
from chaos.disrupt import REAPING, ZOMBIE_TIMEOUT, completed, counts, wait_completed
from rocketjob.store import open_store

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]

HOSTS = 3
WORKERS_PER_HOST = 2
THREADS = 3
# How long to look for the right moment to cut a host off (it usually comes in a few tries).
SEARCH = 60.0
# Debian's libfaketime, multi-threaded flavour (apt-get install faketime).
FAKETIME = next(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"), Path("libfaketimeMT.so.1"))
SKEW = 120.0
# Mends time.sleep() under libfaketime (see its docstring).
SLEEP_FIX = Path(__file__).parents[1] / "support" / "faketime"


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Lab, PrivatePostgres]]:
    """Three hosts on a bridge, and a PostgreSQL server listening on the bridge."""
    reason = unavailable() or no_postgres()
    if reason:
        skip_or_fail(f"no hosts for multi-host tests: {reason}")
    hosts = Lab(HOSTS)
    hosts.build()
    try:
        server = started_server(["127.0.0.1", hosts.gateway], [str(hosts.subnet)])
        try:
            yield hosts, server
        finally:
            server.destroy()
    finally:
        hosts.tear_down()


@dataclass
class Site:
    """One test's database on the lab's server, and workers on the lab's hosts."""

    lab: Lab
    server: PrivatePostgres
    database: str
    url: str  # as this process reaches it
    remote_url: str  # as the hosts reach it
    ledger: Ledger
    fleet: Fleet

    def sessions(self) -> str:
        """What the busy sessions on the database are doing, for a stalled test's report."""
        rows = self.server.execute(
            "SELECT client_addr, state, wait_event_type, wait_event, now() - xact_start, "
            "split_part(query, E'\\n', 1) FROM pg_stat_activity "
            f"WHERE datname = '{self.database}' AND state <> 'idle'"
        )
        return "\n".join(" | ".join(map(str, row)) for row in rows)

    def sessions_of(self, host: Host, state: str) -> int:
        rows = self.server.execute(
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.database}' "
            f"AND client_addr = '{host.address}' AND state = '{state}'"
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def changing_jobs(self, host: Host) -> int:
        """The host's sessions left idle inside a transaction that changed jobs: rows the
        others' reapers must change too."""
        rows = self.server.execute(
            "SELECT count(DISTINCT a.pid) FROM pg_stat_activity AS a "
            "JOIN pg_locks AS l ON l.pid = a.pid JOIN pg_class AS c ON c.oid = l.relation "
            f"WHERE a.client_addr = '{host.address}' AND a.state = 'idle in transaction' "
            "AND c.relname = 'rocketjob_jobs' AND l.mode = 'RowExclusiveLock'",
            self.database,
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def sessions_waiting_on_locks(self, host: Host) -> int:
        rows = self.server.execute(
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.database}' "
            f"AND client_addr = '{host.address}' AND wait_event_type = 'Lock'"
        )
        return int(rows[0][0])  # type: ignore[call-overload]

    def open_transactions(self, host: Host) -> str:
        """The cut host's transactions the server still keeps open, and their first lines."""
        rows = self.server.execute(
            "SELECT now() - xact_start, split_part(query, E'\\n', 1) FROM pg_stat_activity "
            f"WHERE datname = '{self.database}' AND client_addr = '{host.address}' "
            "AND state = 'idle in transaction'"
        )
        return "; ".join(
            f"a session of the cut host is idle in transaction for {age}, its locks held ({query})"
            for age, query in rows
        )

    def start(self, host: Host, index: int, *args: str, env: dict[str, str] | None = None):
        name = f"{host.namespace}-{index}"
        extra = {LEDGER_ENV: self.remote_url, **(env or {})}
        return self.fleet.start(
            *args,
            prefix=host.prefix(),
            env=extra,
            database_url=self.remote_url,
            host=host.namespace,
            name=name,
        )

    def start_all(self, *args: str, env: dict[int, dict[str, str]] | None = None):
        workers = {
            index: [
                self.start(host, k, *args, env=(env or {}).get(index))
                for k in range(1, WORKERS_PER_HOST + 1)
            ]
            for index, host in enumerate(self.lab.hosts)
        }
        self.fleet.wait_registered([w for group in workers.values() for w in group], timeout=60)
        return workers


@pytest.fixture
def site(
    request: pytest.FixtureRequest, lab: tuple[Lab, PrivatePostgres], tmp_path: Path
) -> Iterator[Site]:
    hosts, server = lab
    database = server.fresh_database()
    url = server.url(database)
    store = open_store(url)
    rj.configure(store=store)
    logs = tmp_path / "logs"
    logs.mkdir()
    fleet = Fleet(url, logs)
    remote = server.url(database, host=hosts.gateway)
    found = Site(hosts, server, database, url, remote, Ledger(url), fleet)
    try:
        yield found
    finally:
        fleet.close()
        for host in hosts.hosts:
            host.restore()
        if failed(request):
            print(fleet.tails())
        rj.configure(None)
        store.close()
        server.drop(database)


def ran_on(site: Site, workers: dict[int, list[WorkerProcess]]) -> dict[int, int]:
    """Jobs started per host."""
    pids = {w.pid: index for index, group in workers.items() for w in group}
    counts = dict.fromkeys(workers, 0)
    for entry in site.ledger.entries():
        if entry.event == "start" and entry.pid in pids:
            counts[pids[entry.pid]] += 1
    return counts


def test_three_hosts_drain_the_queue_running_every_job_once(
    site: Site, figures: Figures, scale: float
) -> None:
    ids = Tracked.create_many([{}] * int(5000 * scale))
    workers = site.start_all("--threads", "4", *REAPING)
    wait_completed(len(ids), timeout=120 * scale, message="every job completed")
    accounts = account_jobs(site.url, ids, site.ledger.entries(), [])
    figures.take(accounts)
    per_host = ran_on(site, workers)
    figures.extra["per_host"] = "/".join(str(per_host[i]) for i in sorted(per_host))
    accounts.assert_clean()
    assert all(per_host.values()), per_host


def all_jobs(site: Site) -> list[int]:
    rows = site.server.execute("SELECT id FROM rocketjob_jobs ORDER BY id", site.database)
    return [int(row[0]) for row in rows]  # type: ignore[call-overload]


def all_completed(site: Site, ids: frozenset[int]) -> bool:
    histories = job_histories(site.url, sorted(ids)) if ids else {}
    return all(state == "completed" for state, _ in histories.values())


def worker_state(worker: WorkerProcess) -> str | None:
    return next((w.state for w in rj.list_workers() if w.name == worker.name), None)


def alone_at_work(site: Site, worker: WorkerProcess, everyone: list[WorkerProcess]) -> None:
    """Pauses every worker but `worker`, then has it start new jobs."""
    for other in everyone:
        if other is not worker:
            rj.pause_workers(other.name)
    rj.resume_workers(worker.name)
    wait_until(
        lambda: all(worker_state(w) == "paused" for w in everyone if w is not worker),
        30,
        "the others paused",
    )
    # urgent: claimed before whatever the queue still holds
    more = set(Tracked.create_many([{"seconds": 0.01, "priority": 1}] * 5))
    wait_until(
        lambda: any(e.pid == worker.pid and e.job_id in more for e in site.ledger.entries()),
        60,
        f"{worker.name} running new jobs",
    )


def cut_mid_transaction(site: Site, host: Host, workers: list[WorkerProcess]) -> float:
    """Stops one of the host's workers inside the transaction that records its completed
    jobs (a lock this test holds on one of them makes it wait there), cuts the link, then
    lets the statement run: the server keeps that transaction open, and its rows locked,
    for a client it can no longer reach."""
    pids = {w.pid for w in workers}
    ledger = site.ledger.entries

    def running_slow_job() -> int | None:
        entries = ledger()
        ended = {e.job_id for e in entries if e.event == "end"}
        started = {e.job_id for e in entries if e.event == "start"}
        here = [e.job_id for e in entries if e.event == "start" and e.pid in pids]
        slow = [job_id for job_id in here if job_id not in ended and job_id in long_jobs]
        if slow:
            return slow[-1]
        if long_jobs <= started:  # the other hosts took them all: offer more
            long_jobs.update(Tracked.create_many([{"seconds": 2.0, "priority": 1}] * THREADS))
        return None

    long_jobs: set[int] = set()
    job_id = wait_until(running_slow_job, 60, "a long job running on the host")
    with psycopg.connect(site.url) as blocker:
        blocker.execute("SELECT 1 FROM rocketjob_jobs WHERE id = %s FOR UPDATE", (job_id,))
        wait_until(
            lambda: site.sessions_waiting_on_locks(host) > 0,
            30,
            "the host's worker inside the transaction that completes its jobs",
        )
        host.cut()
        at = time.monotonic()
        blocker.rollback()  # its statement now runs to its end, then waits for COMMIT
    wait_until(lambda: site.changing_jobs(host) > 0, 10, "the host's transaction left open")
    return at


def cut_off(
    site: Site, host: Host, workers: list[WorkerProcess], *, inside_transaction: bool
) -> float:
    """Cuts the host's link inside a transaction that changed jobs (see
    cut_mid_transaction), or at a moment when none of its sessions holds a transaction open
    and its workers hold jobs claimed ahead of their threads (else it restores the link and
    tries again)."""
    if inside_transaction:
        return cut_mid_transaction(site, host, workers)
    pids = {w.pid for w in workers}
    deadline = time.monotonic() + SEARCH
    while time.monotonic() < deadline:
        host.cut()
        at = time.monotonic()
        # statements the server received before the cut run to their end first
        wait_until(lambda: not site.sessions_of(host, "active"), 5, "the host's statements")
        if inside_transaction:  # what the others then wait on is the point, not what it held
            wanted = site.changing_jobs(host) > 0
        else:
            ahead = any(len(held_jobs(w.name)) > THREADS for w in workers)
            wanted = ahead and site.sessions_of(host, "idle in transaction") == 0
        if wanted:
            return at
        host.restore()
        back = time.monotonic()
        if counts().get("queued", 0) < 1000:
            Tracked.create_many([{}] * 2000)  # work to claim ahead at the next try
        # its connections may still be backing off: after a while, cut it again all the same
        with contextlib.suppress(AssertionError):
            wait_until(
                lambda back=back: any(
                    e.pid in pids and e.mono > back for e in site.ledger.entries()
                ),
                5,
                "the host back at work",
            )
    where = "inside a transaction that changed jobs" if inside_transaction else "between"
    raise AssertionError(f"found no moment to cut the host {where} in {SEARCH:.0f} s")


@pytest.mark.parametrize("inside_transaction", [False, True], ids=["between", "mid-transaction"])
def test_a_host_cut_off_past_the_zombie_timeout_is_fenced_when_its_link_returns(
    site: Site, figures: Figures, scale: float, inside_transaction: bool
) -> None:
    # Fast jobs first: the cut host's workers claim ahead of their threads when it is cut.
    Tracked.create_many([{}] * int(3000 * scale))
    Tracked.create_many([{"seconds": 0.3}] * int(150 * scale))
    workers = site.start_all("--threads", str(THREADS), *REAPING)
    cut_host = site.lab.hosts[0]
    wait_until(
        lambda: completed() >= 300,
        timeout=60 * scale,
        message="the hosts at work",
    )
    at = cut_off(site, cut_host, workers[0], inside_transaction=inside_transaction)
    cut = [Disruption("cut off", w.pid, w.name, at, held_jobs(w.name)) for w in workers[0]]
    held = frozenset().union(*(d.held for d in cut))
    # The others requeue what it held and run it; no lock the cut host left holds them up.
    try:
        wait_until(
            lambda: all_completed(site, held),
            10 * ZOMBIE_TIMEOUT,
            "the cut host's jobs run elsewhere",
        )
    except AssertionError as error:
        stuck = site.open_transactions(cut_host)
        raise AssertionError(
            f"{error}: {stuck or 'no session of the cut host holds a transaction open'}; "
            f"sessions:\n{site.sessions()}"
        ) from None
    cut_host.restore()
    back = time.monotonic()
    cut = [Disruption(d.kind, d.pid, d.worker, d.at, d.held, back) for d in cut]
    # Back, its workers rejoin: each runs new jobs while every other worker is paused.
    wait_until(
        lambda: all(worker_state(w) == "running" for w in workers[0]),
        timeout=90,
        message="the cut host's workers registered again",
    )
    everyone = [w for group in workers.values() for w in group]
    for worker in workers[0]:
        alone_at_work(site, worker, everyone)
    for worker in everyone:
        rj.resume_workers(worker.name)
    wait_completed(len(all_jobs(site)), timeout=60 * scale, message="every job completed")
    ids = all_jobs(site)  # those added while looking for the moment to cut, too
    accounts = account_jobs(site.url, ids, site.ledger.entries(), cut)
    figures.take(accounts)
    figures.extra.update(held_when_cut=len(held), cut_s=round(back - at, 1))
    accounts.assert_clean()
    for group in workers.values():
        for worker in group:
            assert worker.poll() is None, worker.output()


def skewed(offset: str) -> dict[str, str]:
    """The environment of a process whose clock is `offset` off (monotonic time stays true,
    so the ledger orders every process's entries on one clock)."""
    return {
        "LD_PRELOAD": str(FAKETIME),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": os.pathsep.join([str(SLEEP_FIX), cli_env()["PYTHONPATH"]]),
    }


def clock_of(host: Host, env: dict[str, str]) -> float:
    """How far Python's datetime.now() on the host, under `env`, is from ours, in seconds."""
    code = "from datetime import UTC, datetime; print(datetime.now(UTC).timestamp())"
    result = subprocess.run(
        [*host.prefix(), "env", *(f"{k}={v}" for k, v in env.items()), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return float(result.stdout) - datetime.now(UTC).timestamp()


def test_hosts_whose_clocks_differ_neither_requeue_early_nor_run_scheduled_jobs_early(
    site: Site, figures: Figures, scale: float
) -> None:
    if not FAKETIME.exists():
        skip_or_fail(f"no libfaketime at {FAKETIME} (apt-get install faketime)")
    clocks = {0: skewed(f"+{SKEW:.0f}s"), 1: skewed(f"-{SKEW:.0f}s")}  # host 2 keeps true time
    for index, env in clocks.items():
        off = clock_of(site.lab.hosts[index], env)
        assert abs(abs(off) - SKEW) < 5, f"host {index}'s clock is {off:.1f} s off, not {SKEW}"
    ids = Tracked.create_many([{"seconds": 0.05}] * int(600 * scale))
    due = datetime.now(UTC) + timedelta(seconds=6)
    due_mono = time.monotonic() + 6
    scheduled = Tracked.create_many([{"run_at": due}] * 30)
    workers = site.start_all("--threads", "3", *REAPING, env=clocks)
    wait_completed(len(ids) + len(scheduled), timeout=60 * scale, message="every job completed")
    entries = site.ledger.entries()
    accounts = account_jobs(site.url, [*ids, *scheduled], entries, [])
    figures.take(accounts)
    early = sorted(
        e.job_id for e in entries if e.job_id in set(scheduled) and e.mono < due_mono - 0.5
    )
    requeued = [
        job_id
        for job_id, (_, history) in job_histories(site.url, [*ids, *scheduled]).items()
        if any(entry["action"] == "requeue" for entry in history)
    ]
    per_host = ran_on(site, workers)
    figures.extra.update(
        early=len(early),
        requeued=len(requeued),
        per_host="/".join(str(per_host[i]) for i in sorted(per_host)),
    )
    accounts.assert_clean()
    assert early == [], f"scheduled jobs started before their run_at: {early}"
    assert requeued == [], f"jobs requeued though no worker died: {requeued[:10]}"
    assert all(per_host.values()), per_host
