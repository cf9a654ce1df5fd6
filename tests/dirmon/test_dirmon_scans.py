"""Scans on both backends, in this process: a file is taken once it stops changing."""

from __future__ import annotations

import os
from pathlib import Path

import dirmon_jobs
import pytest
from manual_clock import ManualClock

import rocketjob as rj
from rocketjob.dirmon.scan import Scanner
from rocketjob.store import Store


def _entry(inbox: Path, job_class: type[rj.Job], name: str = "orders") -> rj.DirmonEntry:
    return rj.DirmonEntry.create(
        name=name,
        pattern=f"{inbox}/in/**/*.{{csv,txt}}",
        job_class=job_class,
        properties={"customer": "globex"} if job_class is dirmon_jobs.Ingest else {},
    ).enable()


def test_a_file_is_taken_once_it_stopped_growing(
    store: Store, inbox: Path, clock: ManualClock
) -> None:
    entry = _entry(inbox, dirmon_jobs.Ingest)
    scanner = Scanner(store, "test")
    dropped = inbox / "in" / "2026" / "orders.csv"
    dropped.parent.mkdir()
    dropped.write_text("id\n1\n")
    (inbox / "in" / "notes.md").write_text("not matched")
    assert scanner.scan(entry) == []  # seen once
    with dropped.open("a") as growing:
        growing.write("2\n")
    clock.advance()
    assert scanner.scan(entry) == []  # grew since
    clock.advance()
    [job_id] = scanner.scan(entry)
    archived = inbox / "in" / "archive" / f"{job_id}_orders.csv"
    assert archived.read_text() == "id\n1\n2\n"
    assert not dropped.exists()
    job = rj.Job.find(job_id)
    assert isinstance(job, dirmon_jobs.Ingest)
    assert (job.upload_file_name, job.customer) == (str(archived), "globex")
    assert job.description == "orders: orders.csv"
    clock.advance()
    assert scanner.scan(entry) == []  # the archive is not scanned
    assert (inbox / "in" / "notes.md").exists()
    assert entry.reload().files_started == 1
    assert entry.reload().last_scan_at is not None


def test_a_batch_job_gets_the_file_uploaded(store: Store, inbox: Path, clock: ManualClock) -> None:
    entry = _entry(inbox, dirmon_jobs.Lines)
    scanner = Scanner(store, "test")
    (inbox / "in" / "lines.txt").write_text("a\nb\nc\n")
    scanner.scan(entry)
    clock.advance()
    [job_id] = scanner.scan(entry)
    job = rj.BatchJob.find(job_id)
    assert job.batch_status().record_count == 3
    assert (inbox / "in" / "archive" / f"{job_id}_lines.txt").exists()


def test_a_failing_entry_turns_failed_and_the_others_go_on(
    store: Store, inbox: Path, tmp_path: Path, clock: ManualClock
) -> None:
    broken = _entry(inbox, dirmon_jobs.Ingest, name="broken")
    working = rj.DirmonEntry.create(
        name="working",
        pattern=f"{inbox}/in/*.txt",
        job_class=dirmon_jobs.Ingest,
        archive_directory="done",
    ).enable()
    # The archive of "broken" becomes a symlink out of the roots: its scans must refuse.
    (inbox / "in" / "archive").symlink_to(tmp_path)
    (inbox / "in" / "a.txt").write_text("x")
    scanner = Scanner(store, "test")
    assert scanner.scan_all().failed == ["broken"]
    clock.advance()
    report = scanner.scan_all()
    assert report.entries == 1
    assert broken.reload().state is rj.DirmonState.FAILED
    assert "not under a dirmon root" in (broken.reload().last_error or "")
    assert working.reload().state is rj.DirmonState.ENABLED
    [job_id] = report.started
    assert (inbox / "in" / "done" / f"{job_id}_a.txt").exists()


def test_scans_less_than_a_second_apart_never_take_a_file(
    store: Store, inbox: Path, clock: ManualClock
) -> None:
    """Two scanners overlapping (each its own scan) see the same size: too soon to tell."""
    entry = _entry(inbox, dirmon_jobs.Ingest)
    (inbox / "in" / "slow.csv").write_text("id\n")  # its writer may not be done
    assert Scanner(store, "host-a:1").scan(entry) == []
    clock.advance(0.005)
    assert Scanner(store, "host-b:1").scan(entry) == []
    clock.advance(0.990)
    assert Scanner(store, "host-b:1").scan(entry) == []  # 995 ms after the first look
    clock.advance(0.005)
    assert len(Scanner(store, "host-a:1").scan(entry)) == 1
    assert not (inbox / "in" / "slow.csv").exists()


def test_a_file_in_another_entrys_archive_is_not_taken_again(
    store: Store, inbox: Path, clock: ManualClock
) -> None:
    everything = _entry(inbox, dirmon_jobs.Ingest, name="everything")  # in/**/*.{csv,txt}
    daily = rj.DirmonEntry.create(
        name="daily", pattern=f"{inbox}/in/daily/*.csv", job_class=dirmon_jobs.Ingest
    ).enable()  # its archive, in/daily/archive, lies under the first entry's pattern
    (inbox / "in" / "daily").mkdir()
    (inbox / "in" / "daily" / "d.csv").write_text("x")
    scanner = Scanner(store, "test")
    scanner.scan(daily)
    clock.advance()
    [job_id] = scanner.scan(daily)
    assert (inbox / "in" / "daily" / "archive" / f"{job_id}_d.csv").exists()
    for _ in range(2):
        assert scanner.scan(everything) == []
        clock.advance()
    assert everything.reload().files_started == 0


def test_a_file_moved_whose_take_never_committed_is_taken_again(store: Store, inbox: Path) -> None:
    """What a scanner killed between the rename and the commit leaves behind."""
    entry = _entry(inbox, dirmon_jobs.Ingest)
    archive = inbox / "in" / "archive"
    archive.mkdir()
    (archive / "987_orders.csv").write_text("id\n")
    [job_id] = Scanner(store, "test").scan(entry)
    assert sorted(os.listdir(archive)) == [f"{job_id}_orders.csv"]
    assert rj.Job.find(job_id).upload_file_name == str(archive / f"{job_id}_orders.csv")  # type: ignore[attr-defined]


def test_without_roots_scanning_refuses_saying_how(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rocketjob import config

    monkeypatch.setattr(config, "_dirmon_roots", ())
    with pytest.raises(rj.ConfigurationError, match=r"rj.configure\(dirmon_roots="):
        Scanner(store, "test").scan_all()
