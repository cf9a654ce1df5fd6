"""Time to create jobs one by one and in bulk, on each backend.

python benchmarks/enqueue.py [sqlite] [postgres]      (N from $BENCH_N, default 10000)
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_jobs import Greet
from common import backends, database, emit

import rocketjob as rj

N = int(os.environ.get("BENCH_N", "10000"))


def main() -> None:
    for backend in backends():
        with database(backend) as url:
            rj.configure(url)
            Greet.create(name="warm-up").destroy()

            started = time.perf_counter()
            for i in range(N):
                Greet.create(name="one", count=i)
            seconds = time.perf_counter() - started
            emit(
                "enqueue_one_by_one",
                backend=backend,
                jobs=N,
                seconds=round(seconds, 3),
                jobs_per_s=round(N / seconds),
            )

            rows = [{"name": "bulk", "count": i} for i in range(N)]
            started = time.perf_counter()
            ids = Greet.create_many(rows)
            seconds = time.perf_counter() - started
            assert len(ids) == N
            emit(
                "enqueue_bulk",
                backend=backend,
                jobs=N,
                seconds=round(seconds, 3),
                jobs_per_s=round(N / seconds),
            )
            rj.configure(None)


if __name__ == "__main__":
    main()
