"""Worker throughput and latency, measured like ../shared/bench/peers measures the peers.

    python benchmarks/workers.py [sqlite] [postgres]

Per backend, one JSON line per figure:
  enqueue   N no-op jobs created with one create_many() call (the fastest bulk API)
  drain     N queued no-op jobs run by 2 `rocketjob worker` processes x 10 threads; the
            workers start paused, the clock starts at resume_workers() and stops when no job
            is left (one index probe every 5 ms); the RSS of each worker after it
  drain_async  the same with N async no-op jobs (`async def perform`), run on each worker's
            event loop with 10 async slots (BENCH_ASYNC_SLOTS)
  latency   one idle worker; one job created at a time; the job's first action sends its
            CLOCK_MONOTONIC over UDP; latency = that minus the moment create() returned
            (negative when the job starts before create() has returned: the worker hears
            of the job as the creating transaction commits), and p50 from the moment
            create() was called; 50 samples after 3 warm-ups, 100 ms apart (PostgreSQL
            only: SQLite polls)
Every guarantee stays on: history, leases, heartbeats, counters. Workers log at WARNING.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from bench_async_jobs import AsyncNoop  # noqa: E402
from bench_jobs import Noop, Ping  # noqa: E402
from common import backends, database, emit  # noqa: E402

import rocketjob as rj  # noqa: E402

N = int(os.environ.get("BENCH_N", "20000"))
PROCESSES = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "10"))
# BENCH_FIGURES=sync leaves out the async drain (to compare with code that has none).
FIGURES = os.environ.get("BENCH_FIGURES", "sync,async").split(",")
ASYNC_SLOTS = int(os.environ.get("BENCH_ASYNC_SLOTS", str(THREADS)))
SAMPLES, WARMUP, GAP = int(os.environ.get("BENCH_SAMPLES", "50")), 3, 0.1


def start_workers(url: str, count: int, *more: str) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(HERE), "ROCKETJOB_DATABASE_URL": url}
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rocketjob",
                "--log-level",
                "WARNING",
                "worker",
                "--import",
                "bench_jobs",
                "--threads",
                str(THREADS),
                *more,
            ],
            env=env,
        )
        for _ in range(count)
    ]


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the workers did not get there in time")
        time.sleep(0.01)


def workers_in(state: str, count: int) -> bool:
    found = rj.list_workers()
    return len(found) == count and all(w.state == state for w in found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def measure_enqueue_and_drain(backend: str, url: str) -> None:
    workers = start_workers(url, PROCESSES)
    try:
        wait_for(lambda: workers_in("running", PROCESSES))
        rj.pause_workers()
        wait_for(lambda: workers_in("paused", PROCESSES))

        started = time.perf_counter()
        Noop.create_many([{}] * N)
        seconds = time.perf_counter() - started
        emit(
            "enqueue",
            backend=backend,
            jobs=N,
            seconds=round(seconds, 4),
            jobs_per_s=round(N / seconds),
        )
        drain(backend, workers, "drain", threads=THREADS)
    finally:
        stop(workers)


def measure_async_drain(backend: str, url: str) -> None:
    more = ("--import", "bench_async_jobs", "--async-slots", str(ASYNC_SLOTS))
    workers = start_workers(url, PROCESSES, *more)
    try:
        wait_for(lambda: workers_in("running", PROCESSES))
        rj.pause_workers()
        wait_for(lambda: workers_in("paused", PROCESSES))
        AsyncNoop.create_many([{}] * N)
        drain(backend, workers, "drain_async", async_slots=ASYNC_SLOTS)
    finally:
        stop(workers)


def drain(backend: str, workers: list[subprocess.Popen[bytes]], figure: str, **how: int) -> None:
    """Resumes the paused workers and times them until no job is left."""
    store = rj.config.get_store()
    started = time.perf_counter()
    rj.resume_workers()
    while store.list_jobs(limit=1)[0]:  # one index probe: light on the machine
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    rss = [round(rss_mb(w.pid), 1) for w in workers]
    emit(
        figure,
        backend=backend,
        jobs=N,
        processes=PROCESSES,
        **how,
        seconds=round(seconds, 3),
        jobs_per_s=round(N / seconds),
        worker_rss_mb=rss,
    )


def measure_latency(backend: str, url: str) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(10)
    port = receiver.getsockname()[1]
    workers = start_workers(url, 1)
    try:
        wait_for(lambda: workers_in("running", 1))
        time.sleep(1.0)  # settle: the worker is idle, waiting for work
        latencies, from_call = [], []
        for sample in range(WARMUP + SAMPLES):
            called = time.monotonic()
            Ping.create(port=port, seq=sample)
            returned = time.monotonic()
            while True:
                seq, started = receiver.recv(64).decode().split()
                if int(seq) == sample:
                    break
            if sample >= WARMUP:
                latencies.append((float(started) - returned) * 1000)
                from_call.append((float(started) - called) * 1000)
            time.sleep(GAP)
        cuts = statistics.quantiles(latencies, n=20)
        emit(
            "pickup_latency",
            backend=backend,
            samples=SAMPLES,
            p50_ms=round(statistics.median(latencies), 3),
            p95_ms=round(cuts[18], 3),
            min_ms=round(min(latencies), 3),
            max_ms=round(max(latencies), 3),
            p50_from_call_ms=round(statistics.median(from_call), 3),
        )
    finally:
        stop(workers)
        receiver.close()


def main() -> None:
    for backend in backends():
        with database(backend) as url:
            rj.configure(url)
            Noop.create(description="migrates the schema").destroy()
            measure_enqueue_and_drain(backend, url)
            if "async" in FIGURES:
                measure_async_drain(backend, url)
            if backend == "postgres":
                measure_latency(backend, url)
            rj.configure(None)


if __name__ == "__main__":
    main()
