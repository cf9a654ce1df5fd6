"""Mission Control's server time per page at a million jobs (PostgreSQL) and 100k (SQLite).

    python benchmarks/mission_control.py [sqlite] [postgres] [--jobs N] [--samples N]

Fills a fresh database with jobs spread over every state (mostly completed, as in a
system that keeps its jobs), then requests each page many times through the ASGI app and
prints one JSON line per page: p50 and p95 of the server's own time (its Server-Timing).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from common import database, emit

sys.path.insert(0, str(Path(__file__).parent))
from bench_jobs import Greet, Noop

import rocketjob as rj
from rocketjob.mission_control import create_app

DEFAULT_JOBS = {"postgres": 1_000_000, "sqlite": 100_000}
CHUNK = 20_000
WORDS = ("invoice", "report", "resize", "export", "welcome", "sync", "charge", "backup")

# Spread by id: 70% completed, 8% failed, 1% aborted, 0.2% paused, 1% running,
# 1% scheduled, the rest queued.
SPREAD = """
UPDATE rocketjob_jobs SET
    state = CASE
        WHEN id % 1000 < 700 THEN 'completed'
        WHEN id % 1000 < 780 THEN 'failed'
        WHEN id % 1000 < 790 THEN 'aborted'
        WHEN id % 1000 < 792 THEN 'paused'
        WHEN id % 1000 < 802 THEN 'running'
        ELSE state END,
    run_at = CASE WHEN id % 1000 BETWEEN 802 AND 811 THEN {later} ELSE run_at END,
    started_at = CASE WHEN id % 1000 < 802 AND id % 1000 NOT BETWEEN 790 AND 791
                      THEN created_at END,
    completed_at = CASE WHEN id % 1000 BETWEEN 700 AND 779 THEN {failed_at}
                        WHEN id % 1000 < 792 THEN created_at END,
    worker_name = CASE WHEN id % 1000 < 802 THEN 'bench:1' END,
    percent_complete = CASE WHEN id % 1000 < 700 THEN 100 WHEN id % 1000 >= 792
                            AND id % 1000 < 802 THEN id % 100 ELSE 0 END,
    exception = CASE WHEN id % 1000 BETWEEN 700 AND 779 THEN {exception} END,
    exception_class = CASE WHEN id % 1000 BETWEEN 700 AND 779 THEN {exception_class} END
"""
# Failed jobs raise one of a few exception classes (12 groups with the 2 job classes) and
# failed over the last week, so the Failures page has every window to count.
EXCEPTION_CLASSES = (
    "ValueError", "KeyError", "TimeoutError", "billing.PaymentDeclined", "ConnectionError",
    "rocketjob.Failed",
)  # fmt: skip
BACKTRACE = '["Traceback (most recent call last):", "  File \\"jobs.py\\", line 9"]'
PG_EXCEPTION_CLASS = "(ARRAY['{}'])[(id % 6)::int + 1]".format("','".join(EXCEPTION_CLASSES))
PG_EXCEPTION = (
    f"jsonb_build_object('class_name', {PG_EXCEPTION_CLASS}, "
    f"'message', 'no such customer ' || id, 'backtrace', '{BACKTRACE}'::jsonb, "
    "'worker_name', 'bench:1')"
)
SQLITE_EXCEPTION_CLASS = "CASE id % 6 {} END".format(
    " ".join(f"WHEN {i} THEN '{c}'" for i, c in enumerate(EXCEPTION_CLASSES))
)
SQLITE_EXCEPTION = (
    f"json_object('class_name', {SQLITE_EXCEPTION_CLASS}, "
    f"'message', 'no such customer ' || id, 'backtrace', json('{BACKTRACE}'), "
    "'worker_name', 'bench:1')"
)
FAILED_GROUP = {"class": "bench_jobs.Greet", "exception": "KeyError"}


def fill(url: str, backend: str, jobs: int) -> None:
    rj.configure(url)
    started = time.monotonic()
    for start in range(0, jobs, CHUNK):
        size = min(CHUNK, jobs - start)
        rows = [
            {"description": f"{WORDS[(start + i) % 8]} {start + i}"} if i % 3 else {}
            for i in range(size)
        ]
        (Greet if start % (2 * CHUNK) else Noop).create_many(rows)
    if backend == "postgres":
        with psycopg.connect(url, autocommit=True) as conn:
            later = "now() + interval '1 day' + id * interval '1 second'"
            failed_at = "now() - (id % 1000 - 700) * interval '2 hours'"
            spread = SPREAD.format(
                later=later,
                exception=PG_EXCEPTION,
                exception_class=PG_EXCEPTION_CLASS,
                failed_at=failed_at,
            )
            conn.execute(spread)  # type: ignore[arg-type]
            conn.execute("VACUUM ANALYZE rocketjob_jobs")
    else:
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            later = "strftime('%Y-%m-%d %H:%M:%f000', 'now', '+1 day', '+' || id || ' seconds')"
            failed_at = (
                "strftime('%Y-%m-%d %H:%M:%f000', 'now', "
                "'-' || (2 * (id % 1000 - 700)) || ' hours')"
            )
            spread = SPREAD.format(
                later=later,
                exception=SQLITE_EXCEPTION,
                exception_class=SQLITE_EXCEPTION_CLASS,
                failed_at=failed_at,
            )
            conn.execute(spread)
    emit("mission_control_fill", backend=backend, jobs=jobs, seconds=time.monotonic() - started)


def measure(backend: str, jobs: int, samples: int) -> None:
    from starlette.testclient import TestClient

    random.seed(7)
    with TestClient(create_app(users={})) as client:

        def deep(state: str | None) -> Callable[[], str]:
            def path() -> str:
                cursor = random.randint(1, jobs)
                base = f"/jobs?state={state}&" if state else "/jobs?"
                return f"{base}cursor={cursor}"

            return path

        pages: dict[str, Callable[[], str]] = {
            "all_first_page": lambda: "/jobs",
            "all_deep_page": deep(None),
            "failed_first_page": lambda: "/jobs?state=failed",
            "failed_deep_page": deep("failed"),
            "queued_first_page": lambda: "/jobs?state=queued",
            "scheduled_first_page": lambda: "/jobs?state=scheduled",
            "running_first_page": lambda: "/jobs?state=running",
            "live_fragment_all": lambda: "/jobs?fragment=1",
            "counts_api": lambda: "/api/jobs/counts",
            "job_page": lambda: f"/jobs/{random.randint(1, jobs)}",
            "jobs_api": lambda: "/api/jobs?limit=50",
            "search_description_common": lambda: f"/jobs?q={random.choice(WORDS)}",
            "search_description_rare": lambda: f"/jobs?q=export {random.randint(1, jobs)}",
            "search_class": lambda: "/jobs?q=Greet",
            "workers_page": lambda: "/workers",
            "failures_page": lambda: "/failures",
            "failures_fragment": lambda: "/failures?fragment=1",
            "failures_api": lambda: "/api/failures",
            "failed_group_first_page": lambda: f"/jobs?state=failed&{urlencode(FAILED_GROUP)}",
            "failed_group_deep_page": lambda: (
                f"/jobs?state=failed&{urlencode(FAILED_GROUP)}&cursor={random.randint(1, jobs)}"
            ),
            "failed_class_first_page": lambda: "/jobs?state=failed&class=bench_jobs.Noop",
            "failed_search": lambda: f"/jobs?state=failed&q={random.choice(WORDS)}",
        }
        for page, path in pages.items():
            timings = []
            for n in range(samples + 10):
                response = client.get(path())
                assert response.status_code == 200, (page, response.status_code)
                if n >= 10:  # the first requests warm caches and prepare statements
                    timings.append(float(response.headers["server-timing"].split("dur=")[1]))
            timings.sort()
            emit(
                "mission_control_page",
                backend=backend,
                jobs=jobs,
                page=page,
                samples=samples,
                p50_ms=round(statistics.median(timings), 2),
                p95_ms=round(timings[int(len(timings) * 0.95) - 1], 2),
            )


def measure_bulk(backend: str, jobs: int) -> None:
    """Retry all of one failure group, then abort them all: jobs per second."""
    which = rj.FailedFilter(FAILED_GROUP["class"], FAILED_GROUP["exception"])
    for name, act in (("bulk_retry_group", rj.retry_failed), ("bulk_abort_failed", None)):
        started = time.monotonic()
        if act is not None:
            outcome = act(which, by="user:bench")
        else:
            outcome = rj.abort_failed(by="user:bench")
        seconds = time.monotonic() - started
        emit(
            "mission_control_bulk",
            backend=backend,
            jobs=jobs,
            action=name,
            done=outcome.done,
            seconds=round(seconds, 2),
            jobs_per_s=round(outcome.done / seconds) if seconds else None,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("backends", nargs="*", default=["sqlite", "postgres"])
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    for backend in args.backends:
        jobs = args.jobs or DEFAULT_JOBS[backend]
        with database(backend) as url:
            fill(url, backend, jobs)
            measure(backend, jobs, args.samples)
            measure_bulk(backend, jobs)
            rj.configure(None)


if __name__ == "__main__":
    main()
