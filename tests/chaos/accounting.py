"""Accounting: from the jobs' rows and histories and the ledger of what perform() did, how
many jobs were lost, run twice, or re-run because the test killed, froze or cut off the
worker that held them; and whether a worker wrote anything it no longer held."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from ledger import Entry

from rocketjob.config import get_store


@dataclass
class Disruption:
    """What the test did to one worker: at `at` (time.monotonic()) it was killed, frozen
    or cut off, holding `held` (jobs, or for a batch the records of its slices); a frozen
    or cut off worker came back at `until`."""

    kind: str
    pid: int
    worker: str
    at: float
    held: frozenset[int]
    until: float | None = None


@dataclass
class Accounts:
    jobs: int
    lost: list[int] = field(default_factory=list)  # not completed exactly once
    twice: list[int] = field(default_factory=list)  # re-runs no disruption explains
    explained: list[int] = field(default_factory=list)  # re-runs of what a disrupted worker held
    stray_writes: list[str] = field(default_factory=list)  # writes by a worker past its lease
    late_starts: list[str] = field(default_factory=list)  # starts of jobs a worker lost
    requeue_s: float | None = None  # from a disruption to the first re-run of what it held
    evidence: dict[int, str] = field(default_factory=dict)  # what happened to some of them
    disrupted: str = ""  # what the test did, and when

    def problems(self) -> str:
        parts = [
            f"{name}: {values[:10]}{' …' if len(values) > 10 else ''} ({len(values)})"
            for name, values in [
                ("lost", self.lost),
                ("run twice", self.twice),
                ("written past the lease", self.stray_writes),
                ("started after losing them", self.late_starts),
            ]
            if values
        ]
        if parts:
            shown = [*self.twice[:3], *self.lost[:2]]
            parts += [f"\n{item}: {self.evidence[item]}" for item in shown if item in self.evidence]
            parts.append(f"\n{self.disrupted}")
        return "; ".join(parts)

    def assert_clean(self) -> None:
        assert not self.problems(), self.problems()


def held_jobs(worker: str) -> frozenset[int]:
    """The jobs `worker` holds now: running under its name (claimed ahead or started)."""
    return frozenset(int(r["id"]) for r in get_store().running_jobs_of_workers([worker]))


def held_records(database_url: str, worker: str) -> frozenset[int]:
    """The records (numbered from 0) of the batch slices `worker` holds now."""
    query = (
        "SELECT first_record, record_count FROM rocketjob_slices "
        "WHERE state = 'running' AND worker_name = {}"
    )
    rows = _query(database_url, query, (worker,))
    return frozenset(n for first, count in rows for n in range(first - 1, first - 1 + count))


def job_histories(database_url: str, ids: Sequence[int]) -> dict[int, tuple[str, list[Any]]]:
    """Each job's state and history, in one query."""
    query = "SELECT id, state, history FROM rocketjob_jobs WHERE id BETWEEN {} AND {}"
    rows = _query(database_url, query, (min(ids), max(ids)))
    return {
        int(id_): (state, json.loads(history) if isinstance(history, str) else history)
        for id_, state, history in rows
    }


def _query(database_url: str, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path, timeout=60) as conn:
            return conn.execute(query.format(*["?"] * len(params)), params).fetchall()
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(query.format(*["%s"] * len(params)), params).fetchall()  # type: ignore[arg-type]


def account_jobs(
    database_url: str,
    ids: Sequence[int],
    entries: Iterable[Entry],
    disruptions: Sequence[Disruption] = (),
) -> Accounts:
    """Every job completed once, by the worker that held it; re-runs only of jobs a
    disrupted worker held when it started them; no start by a worker of a job it lost."""
    accounts = Accounts(jobs=len(ids))
    histories = job_histories(database_url, ids)
    for job_id in ids:
        state, history = histories.get(job_id, ("gone", []))
        completions = [e for e in history if e["action"] == "complete"]
        if state != "completed" or len(completions) != 1:
            accounts.lost.append(job_id)
        accounts.stray_writes += _stray_writes(job_id, history)
    entries = list(entries)
    starts = _by_item(e for e in entries if e.event == "start")
    _judge_reruns(accounts, starts, disruptions)
    runs = _by_item(entries)
    accounts.disrupted = "; ".join(
        f"{d.worker} {d.kind} at {d.at:.2f}" + (f" until {d.until:.2f}" if d.until else "")
        for d in disruptions
    )
    for job_id in [*accounts.twice[:3], *accounts.lost[:2]]:
        state, history = histories.get(job_id, ("gone", []))
        steps = [f"{e.event} by {e.worker or e.pid} at {e.mono:.2f}" for e in runs.get(job_id, [])]
        moves = [f"{h['action']} by {h['by']} at {h['at']}" for h in history]
        accounts.evidence[job_id] = f"{state}; ran: {', '.join(steps)}; history: {', '.join(moves)}"
    return accounts


def account_records(
    count: int, entries: Iterable[Entry], disruptions: Sequence[Disruption] = ()
) -> Accounts:
    """Every record of a batch processed; twice only in a slice a disrupted worker held."""
    accounts = Accounts(jobs=count)
    processed = _by_item((e for e in entries if e.event == "record"), key="item")
    accounts.lost = [n for n in range(count) if n not in processed]
    _judge_reruns(accounts, processed, disruptions)
    return accounts


def _by_item(entries: Iterable[Entry], key: str = "job_id") -> dict[int, list[Entry]]:
    runs: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        runs[int(getattr(entry, key))].append(entry)
    for item in runs.values():
        item.sort(key=lambda e: e.mono)
    return runs


def _judge_reruns(
    accounts: Accounts, runs: dict[int, list[Entry]], disruptions: Sequence[Disruption]
) -> None:
    by_pid: dict[int, list[Disruption]] = defaultdict(list)
    for disruption in disruptions:
        by_pid[disruption.pid].append(disruption)
    first_rerun: dict[int, float] = {}
    for item, run in runs.items():
        if len(run) > 1:
            # Every run but the last must have been cut short by the test.
            earlier = run[:-1]
            if all(_explained(item, entry, by_pid[entry.pid]) for entry in earlier):
                accounts.explained.append(item)
            else:
                accounts.twice.append(item)
        for index, disruption in enumerate(disruptions):
            if item in disruption.held:
                after = [e.mono for e in run if e.pid != disruption.pid and e.mono > disruption.at]
                if after:
                    first = min(after) - disruption.at
                    first_rerun[index] = min(first_rerun.get(index, first), first)
        accounts.late_starts += _late_starts(item, run, disruptions)
    if first_rerun:
        accounts.requeue_s = max(first_rerun.values())


def _explained(item: int, entry: Entry, disruptions: list[Disruption]) -> bool:
    # A cut off worker cannot know it is cut off: until it is back it may start a job it
    # held, like one it had started just before. Once back, it must not (see late starts).
    return any(item in d.held and entry.mono <= (d.until or d.at) for d in disruptions)


def _late_starts(item: int, run: list[Entry], disruptions: Sequence[Disruption]) -> list[str]:
    """Starts by a frozen or cut off worker, once back, of work another worker also ran."""
    late = []
    for d in disruptions:
        if d.until is None:
            continue
        others = any(e.pid != d.pid for e in run)
        for entry in run:
            if entry.pid == d.pid and entry.mono > d.until and others:
                late.append(f"{item} by {d.worker} {entry.mono - d.until:.2f} s after it came back")
    return late


def _stray_writes(job_id: int, history: list[dict[str, Any]]) -> list[str]:
    """Completions and failures by anyone but the worker holding the job at that moment."""
    holder: str | None = None
    stray = []
    for entry in history:
        action = entry["action"]
        if action == "start":
            holder = entry["by"]
        elif action == "requeue":
            holder = None
        elif action in ("complete", "fail") and entry["to"] in ("completed", "failed"):
            if entry["by"] != holder:
                stray.append(f"job {job_id}: {action} by {entry['by']} while held by {holder}")
            holder = None
    return stray
