"""Driving batch jobs in-process, step by step, as a worker's threads would."""

from __future__ import annotations

import csv
from pathlib import Path

from rocketjob.batch.lifecycle import BatchOutcome, run_after, run_batch_job, settle_batches
from rocketjob.batch.processing import claim_slices
from rocketjob.execution import load_claimed
from rocketjob.store import Store


def start(store: Store, worker: str = "host:1") -> BatchOutcome:
    """Claims the next queued job (a batch job) and runs its before step."""
    (row,) = store.claim_jobs(worker, 1)
    job, claim = load_claimed(row)
    return run_batch_job(job, claim, worker)


def process(store: Store, worker: str = "host:1", limit: int = 1_000_000) -> list[BatchOutcome]:
    """Claims and runs slices until none is left (or `limit` ran); settles what is done."""
    outcomes: list[BatchOutcome] = []
    while len(outcomes) < limit and (
        work := claim_slices(store, worker, min(3, limit - len(outcomes)))
    ):
        outcomes.extend(item.run() for item in work)
    outcomes.extend(sweep(store, worker))
    return outcomes


def sweep(store: Store, worker: str = "host:1") -> list[BatchOutcome]:
    return [run_after(job, claim, worker) for job, claim in settle_batches(store, worker)]


def people_csv(path: Path, rows: int, *, start: int = 0) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "city"])
        for i in range(start, start + rows):
            writer.writerow([i, f"name {i}", "Springfield"])
    return path
