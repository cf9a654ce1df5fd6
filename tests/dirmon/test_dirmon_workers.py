"""Real worker processes scanning one directory: each file becomes one job, even when a
scanner is killed with SIGKILL at any point of a take."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import dirmon_jobs
import pytest
from processes import rocketjob, start_rocketjob, wait_until

import rocketjob as rj
from rocketjob.dirmon.job import DIRMON_CRON_ENV
from rocketjob.dirmon.scan import SETTLE, STOP_AT_ENV
from rocketjob.store import Store


@pytest.fixture
def dirmon_env(inbox: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Processes started from here watch `inbox` and scan every second."""
    monkeypatch.setenv("ROCKETJOB_DIRMON_ROOTS", str(inbox))
    monkeypatch.setenv(DIRMON_CRON_ENV, "* * * * * *")
    return inbox


def _worker(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    return start_rocketjob(
        "worker", "--dirmon", "--import", "dirmon_jobs", "--poll-interval", "0.1",
        "--threads", "2", *args, database_url=database_url,
    )  # fmt: skip


def test_three_workers_start_one_job_per_file(
    store: Store, database_url: str, dirmon_env: Path
) -> None:
    inbox = dirmon_env / "in"
    rj.DirmonEntry.create(
        name="many", pattern=f"{inbox}/*.csv", job_class=dirmon_jobs.Ingest
    ).enable()
    names = {f"f{i:03}.csv" for i in range(200)}
    for name in names:
        (inbox / name).write_text(name)
    workers = [_worker(database_url) for _ in range(3)]
    try:
        archive = inbox / "archive"
        wait_until(lambda: archive.is_dir() and len(os.listdir(archive)) == 200, 90, "200 taken")
        wait_until(lambda: rj.DirmonEntry.find("many").files_started == 200, 30, "200 counted")
    finally:
        for worker in workers:
            worker.close()
    jobs = rj.Job.page(class_name="dirmon_jobs.Ingest", limit=500).jobs
    archived = {Path(job.upload_file_name) for job in jobs}  # type: ignore[attr-defined]
    assert len(jobs) == 200
    assert all(Path(job.upload_file_name).name.startswith(f"{job.id}_") for job in jobs)  # type: ignore[attr-defined]
    assert {p.parent for p in archived} == {archive}
    assert {p.name.split("_", 1)[1] for p in archived} == names
    assert all(p.read_text() == p.name.split("_", 1)[1] for p in archived)
    assert sorted(os.listdir(inbox)) == ["archive"]


@pytest.mark.parametrize("point", ["before_move", "after_move", "after_commit", "mid_upload"])
def test_a_scanner_killed_mid_take_leaves_one_job_per_file_after_restart(
    store: Store, database_url: str, dirmon_env: Path, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = dirmon_env / "in"
    entry = rj.DirmonEntry.create(
        name="lines", pattern=f"{inbox}/*.txt", job_class=dirmon_jobs.Lines
    ).enable()
    (inbox / "f.txt").write_text("".join(f"line {i}\n" for i in range(60)))
    assert (
        rocketjob(
            "dirmon", "scan", "--once", "--import", "dirmon_jobs", database_url=database_url
        ).returncode
        == 0
    )
    # The next scan must be a second after this one for the file to be taken.
    wait_until(
        lambda: all(
            store.now() - seen["seen_at"] >= SETTLE
            for seen in store.dirmon_observations(entry.id).values()
        ),
        10,
        "a second since the file was seen",
    )
    monkeypatch.setenv(STOP_AT_ENV, point)
    killed = rocketjob(
        "dirmon", "scan", "--once", "--import", "dirmon_jobs", database_url=database_url
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    monkeypatch.delenv(STOP_AT_ENV)
    worker = _worker(database_url, "--include", "DirmonJob")
    try:

        def settled() -> list[rj.Job]:
            jobs = rj.Job.page(class_name="dirmon_jobs.Lines").jobs
            if len(jobs) != 1 or (inbox / "f.txt").exists():
                return []
            batch = store.get_batch(jobs[0].id or 0)
            return jobs if batch is not None and batch["uploaded_at"] is not None else []

        [job] = wait_until(settled, 60, "the file's job, uploaded")
    finally:
        worker.close()
    assert sorted(os.listdir(inbox / "archive")) == [f"{job.id}_f.txt"]
    assert store.get_batch(job.id or 0)["record_count"] == 60  # type: ignore[index]
    assert rj.DirmonEntry.find("lines").files_started == 1
