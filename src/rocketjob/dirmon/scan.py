"""Scanning: each complete file an enabled entry matches starts one job, once.

Taking a file is one database transaction around one rename:

    BEGIN; insert the job (its id is now known); rename the file to <archive>/<id>_<name>;
    record the take; COMMIT

The rename is the arbiter between scanners on any number of hosts: only one rename of a
file can succeed, and the others roll back. A scanner killed before the rename leaves the
file in place and no job (the transaction dies with it); one killed after the commit
leaves the job and its archived file. Killed between the rename and the commit, it leaves
an archived file whose take never committed: the next scan of the entry finds it (a
`<digits>_` file in the archive with no take recorded) and takes it again, from the
archive, as a new job. Recovery holds a lock that every take shares, so it never mistakes
a take still in flight for a dead one. A batch job's records are uploaded after the
commit; an upload whose scanner died is done again by a later scan.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from rocketjob.batch import BatchJob
from rocketjob.dirmon import paths
from rocketjob.dirmon.entry import UPLOAD_FILE_NAME, DirmonEntry, DirmonState
from rocketjob.errors import ConfigurationError, RocketJobError, UploadError
from rocketjob.jobs import Job, job_class
from rocketjob.store import NewJob, Row, Store

log = logging.getLogger("rocketjob.dirmon")

# Tests name a point here ("before_move", "after_move", "after_commit", "mid_upload") and
# the scanning process kills itself there with SIGKILL: a crash at an exact moment.
STOP_AT_ENV = "ROCKETJOB_DIRMON_STOP_AT"
# An upload left unfinished by a scanner of another host that is no live worker is done
# again after this (one of this host is known gone as soon as its process is).
UPLOAD_GRACE = timedelta(seconds=60)
# A file is complete once two observations this far apart (by the store's clock, the
# database's on PostgreSQL) saw the same size and mtime: scans that overlap, or follow
# each other by milliseconds, never take a file that is still being written.
SETTLE = timedelta(seconds=1)
_ARCHIVED = re.compile(r"^(\d+)_(.+)$")


@dataclass(frozen=True)
class ScanReport:
    entries: int
    started: list[int]  # the ids of the jobs started
    failed: list[str]  # the names of the entries whose scan failed


class Scanner:
    """Scans entries for `name` (the worker, or the command, doing it)."""

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name

    def scan_all(self) -> ScanReport:
        """Scans every enabled entry; one that fails turns failed and the others go on."""
        paths.roots()  # no roots: refuse, saying how to configure them
        entries = [e for e in DirmonEntry.all() if e.state is DirmonState.ENABLED]
        started: list[int] = []
        failed: list[str] = []
        for entry in entries:
            try:
                started.extend(self.scan(entry))
            except Exception as error:
                log.warning("dirmon entry %s failed: %s", entry.name, error)
                self.store.dirmon_failed(entry.id, f"{type(error).__name__}: {error}")
                failed.append(entry.name)
        return ScanReport(len(entries), started, failed)

    def scan(self, entry: DirmonEntry) -> list[int]:
        """One scan of one entry: files seen unchanged since an earlier scan are taken."""
        cls = job_class(entry.job_class)
        if cls is None:
            raise ConfigurationError(
                f"job class {entry.job_class} is not imported by this worker "
                "(rocketjob worker --import MODULE)"
            )
        problems = paths.pattern_problems(entry.pattern)
        problems += paths.archive_problems(entry.pattern, entry.archive_directory)
        if problems:
            raise ConfigurationError("; ".join(problems))
        archive = paths.archive_path(entry.pattern, entry.archive_directory)
        started = self.recover(entry, cls, archive)
        observed = self.store.dirmon_observations(entry.id)
        scan_id = uuid.uuid4().hex
        seen: set[str] = set()
        archives = [archive] + [
            paths.archive_path(other.pattern, other.archive_directory)
            for other in DirmonEntry.all()
            if other.id != entry.id
        ]
        for path, info in paths.matching_files(entry.pattern, archives):
            seen.add(path)
            before = observed.get(path)
            unchanged = (
                before is not None
                and before["scan_id"] != scan_id
                and int(before["size"]) == info.st_size
                and int(before["mtime_ns"]) == info.st_mtime_ns
            )
            if not unchanged:
                self.store.save_dirmon_observation(
                    entry.id, path, info.st_size, info.st_mtime_ns, scan_id
                )
            elif before is not None and self.store.now() - before["seen_at"] >= SETTLE:
                job_id = self.take(entry, cls, path, archive, os.path.basename(path))
                if job_id is not None:
                    started.append(job_id)
            # else: unchanged, too soon to tell; the earlier observation stands
        for path in observed.keys() - seen:
            self.store.forget_dirmon_observation(entry.id, path)
        self.store.dirmon_scanned(entry.id)
        return started

    def take(
        self, entry: DirmonEntry, cls: type[Job], path: str, archive: Path, name: str
    ) -> int | None:
        """Moves the file to `<archive>/<job id>_<name>` and creates its job, as one step;
        None if another scanner took it first."""
        archive.mkdir(parents=True, exist_ok=True)
        try:
            job_id, target = self._take(entry, cls, path, archive, name)
        except FileNotFoundError:
            return None  # renamed by another scanner: its job, not ours
        log.info("dirmon %s: %s → job %d", entry.name, path, job_id)
        stop_at("after_commit")
        if cls.batch:
            self._upload(job_id, target)
        return job_id

    def _take(
        self, entry: DirmonEntry, cls: type[Job], source: str, archive: Path, name: str
    ) -> tuple[int, Path]:
        store = self.store
        with store.transaction():
            store.lock_for_take()
            new_job = _new_job(entry, cls, str(archive / name))
            job_id = int(store.insert_job(new_job, handoff=False)["id"])
            target = archive / f"{job_id}_{name}"
            if not cls.batch:
                fields = {**entry.properties, UPLOAD_FILE_NAME: str(target)}
                store.set_job_fields(job_id, cls._fieldset.validate_create(fields)[2])
            stop_at("before_move")
            if os.path.lexists(target):
                # SQLite hands out again the id of a take that rolled back: never
                # overwrite that take's archived file (recovery will take it).
                raise RocketJobError(f"{target} exists already: it is recovered first")
            os.rename(source, target)
            stop_at("after_move")
            store.record_dirmon_take(
                entry.id, job_id, source, str(target), self.name, uploaded=not cls.batch
            )
        return job_id, target

    def recover(self, entry: DirmonEntry, cls: type[Job], archive: Path) -> list[int]:
        """Takes again the archived files whose take never committed, and finishes the
        uploads whose scanner died; the ids of the jobs it started."""
        started: list[int] = []
        if archive.is_dir():
            candidates = [
                str(archive / child.name)
                for child in os.scandir(archive)
                if _ARCHIVED.match(child.name) and child.is_file(follow_symlinks=False)
            ]
            if candidates:
                with self.store.transaction():
                    self.store.lock_for_recovery()
                    orphans = set(candidates) - self.store.dirmon_taken(candidates)
                for orphan in sorted(orphans):
                    match = _ARCHIVED.match(os.path.basename(orphan))
                    assert match is not None
                    log.warning("dirmon %s: %s was never started: taking it", entry.name, orphan)
                    job_id = self.take(entry, cls, orphan, archive, match.group(2))
                    if job_id is not None:
                        started.append(job_id)
        if cls.batch:
            cutoff = self.store.now() - UPLOAD_GRACE
            for row in self.store.dirmon_unfinished_uploads(entry.id):
                if not _scanner_gone(str(row["taken_by"]), bool(row["by_worker"]), row, cutoff):
                    continue
                archived = str(row["archive_path"])
                if self.store.retake_dirmon_upload(archived, str(row["taken_by"]), self.name):
                    log.warning("dirmon %s: uploading %s again", entry.name, archived)
                    self._upload(int(row["job_id"]), Path(archived))
        return started

    def _upload(self, job_id: int, target: Path) -> None:
        store = self.store
        batch = store.get_batch(job_id)
        if batch is not None and batch["uploaded_at"] is not None:
            store.dirmon_uploaded(str(target))  # done before its scanner died
            return
        if batch is not None:
            store.drop_upload(job_id)
        job = BatchJob.find(job_id)
        try:
            job.upload(str(target), on_progress=lambda records, read: stop_at("mid_upload"))
        except UploadError as error:
            # The job failed with what is wrong with the file: the take is done.
            log.warning("dirmon: job %d cannot read %s: %s", job_id, target, error)
        store.dirmon_uploaded(str(target))


def _new_job(entry: DirmonEntry, cls: type[Job], placeholder: str) -> NewJob:
    values = dict(entry.properties)
    values.setdefault("description", f"{entry.name}: {os.path.basename(placeholder)}")
    if not cls.batch:
        values[UPLOAD_FILE_NAME] = placeholder  # the archived path once the id is known
    standard, _, fields_json = cls._fieldset.validate_create(values)
    return NewJob(
        class_name=cls.class_name,
        fields=fields_json,
        sub_state=cls._first_sub_state(),
        **standard,
    )


def _scanner_gone(taken_by: str, by_worker: bool, row: Row, cutoff: datetime) -> bool:
    """Whether the scanner uploading a file is gone: a process of this host that is no
    more, or (elsewhere) no registered worker for a while."""
    host, _, pid = taken_by.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return not by_worker and row["taken_at"] < cutoff


def stop_at(point: str) -> None:
    if os.environ.get(STOP_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
