"""The batch benchmark: a 1,000,000-row CSV (~100 bytes a row), the name upper-cased, CSV
out, by 2 `rocketjob worker` processes, on each backend; against the same transformation as
a plain Python loop over the file with 2 processes and no database (batch_limit.py).

python benchmarks/batch.py [sqlite] [postgres]

$BENCH_ROWS (1000000), $BENCH_SLICE (slice size, 5000), $BENCH_THREADS (per worker, 2),
$BENCH_LIMIT (the path of batch_limit.py; default ../shared/bench/batch_limit.py).
Upload and download run through the CLI and are timed on their own; processing is timed
from the moment the uploaded job is released to two idle workers until it completed.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_jobs import UpcaseNames
from common import backends, database, emit

import rocketjob as rj

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
SLICE = int(os.environ.get("BENCH_SLICE", "5000"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
PROCESSES = 2
HERE = Path(__file__).parent
LIMIT = Path(os.environ.get("BENCH_LIMIT", HERE.parent.parent / "shared/bench/batch_limit.py"))


def write_csv(path: Path, rows: int) -> None:
    # The layout batch_limit.py generates: id, name, email, city, note.
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "email", "city", "note"])
        note = "lorem ipsum dolor sit amet consectetur"
        writer.writerows(
            [i, f"name {i:08d}", f"user{i:08d}@example.com", "Springfield", note]
            for i in range(rows)
        )


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rocketjob", *args]


def environment(url: str) -> dict[str, str]:
    env = dict(os.environ, ROCKETJOB_DATABASE_URL=url, BENCH_SLICE=str(SLICE))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Runs a command; its wall seconds, peak RSS (KiB) and standard output."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    out = process.stdout.read().decode() if process.stdout else ""
    err = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {err}")
    return seconds, usage.ru_maxrss, out


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def start_workers(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    args = command(
        "worker", "--import", "bench_jobs", "--threads", str(THREADS), "--poll-interval", "0.05"
    )
    workers = [subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL) for _ in range(PROCESSES)]
    pids = {worker.pid for worker in workers}
    deadline = time.monotonic() + 60
    # idle and polling: their start-up is not timed
    while {w.pid for w in rj.list_workers() if w.state == "running"} < pids:
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise RuntimeError("the workers did not start")
        time.sleep(0.02)
    return workers


def run_backend(backend: str, source: Path, folder: Path) -> dict[str, Any]:
    with database(backend) as url:
        env = environment(url)
        rj.configure(url)
        seconds, rss, out = timed(
            command("batch", "upload", "bench_jobs.UpcaseNames", str(source)), env
        )
        job_id = int(out.split()[1].rstrip(":"))
        emit(
            "batch_upload",
            backend=backend,
            records=ROWS,
            slice_size=SLICE,
            seconds=round(seconds, 3),
            records_per_s=round(ROWS / seconds),
            mb_per_s=round(source.stat().st_size / seconds / 1e6, 1),
            peak_rss_mb=round(rss / 1024, 1),
        )
        job = UpcaseNames.find(job_id)
        job.pause()  # held back until the workers are up
        workers = start_workers(env)
        try:
            started = time.perf_counter()
            job.resume()
            while job.reload().state is not rj.State.COMPLETED:
                if job.state is not rj.State.RUNNING and job.state is not rj.State.QUEUED:
                    raise RuntimeError(f"the job ended {job.state.value}: {job.exception}")
                time.sleep(0.01)
            processing = time.perf_counter() - started
            worker_rss = [round(peak_rss_kib(w.pid) / 1024, 1) for w in workers]
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait()
        target = folder / f"out-{backend}.csv"
        seconds, rss, out = timed(
            command("batch", "download", "--import", "bench_jobs", str(job_id), str(target)), env
        )
        with target.open() as check:
            header, first = check.readline(), check.readline()
            lines, last = 2, first
            for last in check:  # noqa: B007 - the last line is checked below
                lines += 1
        assert header.strip() == "id,name,email,city,note" and first.startswith("0,NAME 00000000,")
        assert lines == ROWS + 1 and last.startswith(f"{ROWS - 1},NAME {ROWS - 1:08d},"), lines
        assert f"downloaded {ROWS:,} records" in out, out
        emit(
            "batch_download",
            backend=backend,
            records=ROWS,
            seconds=round(seconds, 3),
            records_per_s=round(ROWS / seconds),
            peak_rss_mb=round(rss / 1024, 1),
        )
        rj.configure(None)
        return {"seconds": processing, "worker_peak_rss_mb": worker_rss}


def limit(folder: Path) -> float:
    result = subprocess.run(
        [
            sys.executable,
            str(LIMIT),
            "--rows",
            str(ROWS),
            "--processes",
            str(PROCESSES),
            "--dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    figure = json.loads(result.stdout.strip().splitlines()[-1])
    emit("batch_limit", **figure)
    return float(figure["records_per_s"])


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = folder / "in.csv"
        write_csv(source, ROWS)
        for backend in backends():
            before = limit(folder) if LIMIT.exists() else None
            done = run_backend(backend, source, folder)
            after = limit(folder) if LIMIT.exists() else None
            rate = ROWS / done["seconds"]
            reference = (before + after) / 2 if before and after else None
            emit(
                "batch_processing",
                backend=backend,
                records=ROWS,
                slice_size=SLICE,
                processes=PROCESSES,
                threads=THREADS,
                seconds=round(done["seconds"], 3),
                records_per_s=round(rate),
                limit_records_per_s=round(reference) if reference else None,
                percent_of_limit=round(100 * rate / reference, 1) if reference else None,
                worker_peak_rss_mb=done["worker_peak_rss_mb"],
            )


if __name__ == "__main__":
    main()
