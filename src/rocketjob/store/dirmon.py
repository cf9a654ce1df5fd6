"""The store's dirmon half: entries, what the last scan saw, and every file taken."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

from rocketjob.store.executor import Executor, Row

# Serialises dirmon recovery against the takes in flight, across processes and hosts.
DIRMON_LOCK = zlib.crc32(b"rocketjob.dirmon")


class DirmonStore(Executor):
    def insert_dirmon_entry(self, values: dict[str, Any]) -> Row | None:
        """The new entry (state pending); None if its name is taken."""
        params = {**values, "properties": json.dumps(values["properties"]), "now": self.now()}
        return self.fetch_one("insert_dirmon_entry", params)

    def update_dirmon_entry(self, entry_id: int, values: dict[str, Any]) -> Row | None:
        params = {
            **values,
            "id": entry_id,
            "properties": json.dumps(values["properties"]),
            "now": self.now(),
        }
        return self.fetch_one("update_dirmon_entry", params)

    def get_dirmon_entry(self, entry_id: int) -> Row | None:
        return self.fetch_one("select_dirmon_entry", {"id": entry_id})

    def get_dirmon_entry_by_name(self, name: str) -> Row | None:
        return self.fetch_one("select_dirmon_entry_by_name", {"name": name})

    def list_dirmon_entries(self) -> list[Row]:
        return self.fetch_all("list_dirmon_entries", {})

    def set_dirmon_state(self, entry_id: int, state: str, from_states: Sequence[str]) -> Row | None:
        """Moves the entry to `state` (clearing its error) if it is in one of `from_states`;
        None otherwise."""
        params = {
            "id": entry_id,
            "state": state,
            "from_states": self._array_param(list(from_states)),
            "now": self.now(),
        }
        return self.fetch_one("set_dirmon_state", params)

    def delete_dirmon_entry(self, entry_id: int) -> bool:
        return self.execute("delete_dirmon_entry", {"id": entry_id}) == 1

    def dirmon_scanned(self, entry_id: int) -> None:
        self.execute("dirmon_scanned", {"id": entry_id, "now": self.now()})

    def dirmon_failed(self, entry_id: int, error: str) -> None:
        self.execute("dirmon_failed", {"id": entry_id, "error": error, "now": self.now()})

    # -- scans ----------------------------------------------------------------------------

    def dirmon_observations(self, entry_id: int) -> dict[str, Row]:
        """What earlier scans saw of the files not yet taken, by path."""
        rows = self.fetch_all("dirmon_observations", {"entry_id": entry_id})
        return {str(row["path"]): row for row in rows}

    def save_dirmon_observation(
        self, entry_id: int, path: str, size: int, mtime_ns: int, scan_id: str
    ) -> None:
        params = {
            "entry_id": entry_id,
            "path": path,
            "size": size,
            "mtime_ns": mtime_ns,
            "scan_id": scan_id,
            "now": self.now(),
        }
        self.execute("save_dirmon_observation", params)

    def forget_dirmon_observation(self, entry_id: int, path: str) -> None:
        self.execute("forget_dirmon_observation", {"entry_id": entry_id, "path": path})

    def lock_for_take(self) -> None:
        """In a take's transaction: recovery cannot run until it commits or rolls back."""
        self.fetch_all("dirmon_take_lock", {"key": DIRMON_LOCK})

    def lock_for_recovery(self) -> None:
        """In recovery's transaction: waits for every take in flight to end, and holds
        new ones off until it commits."""
        self.fetch_all("dirmon_recovery_lock", {"key": DIRMON_LOCK})

    def record_dirmon_take(
        self,
        entry_id: int,
        job_id: int,
        source_path: str,
        archive_path: str,
        taken_by: str,
        *,
        uploaded: bool,
    ) -> None:
        """In the take's transaction, with the job's insert."""
        params = {
            "archive_path": archive_path,
            "entry_id": entry_id,
            "job_id": job_id,
            "source_path": source_path,
            "taken_by": taken_by,
            "now": self.now(),
            "uploaded": uploaded,
        }
        self.execute("insert_dirmon_take", params)
        self.execute("count_dirmon_take", {"id": entry_id, "job_id": job_id})
        self.forget_dirmon_observation(entry_id, source_path)

    def set_job_fields(self, job_id: int, fields: str) -> None:
        """A job's own fields (JSON text), in the transaction that created it."""
        self.execute("dirmon_set_job_fields", {"id": job_id, "fields": fields})

    def dirmon_taken(self, archive_paths: Sequence[str]) -> set[str]:
        """Of these archived files, those whose take committed."""
        if not archive_paths:
            return set()
        rows = self.fetch_all("dirmon_takes_of_paths", {"paths": self._array_param(archive_paths)})
        return {str(row["archive_path"]) for row in rows}

    def dirmon_uploaded(self, archive_path: str) -> None:
        self.execute("dirmon_uploaded", {"archive_path": archive_path})

    def dirmon_unfinished_uploads(self, entry_id: int) -> list[Row]:
        """Batch uploads from archived files not finished yet: archive_path, job_id,
        taken_by, taken_at, and by_worker (whether taken_by is a registered worker)."""
        return self.fetch_all("dirmon_unfinished_uploads", {"entry_id": entry_id})

    def retake_dirmon_upload(self, archive_path: str, previous: str, taken_by: str) -> bool:
        """Makes `taken_by` the one to finish a dead scanner's upload; False if another
        recoverer got there first."""
        params = {
            "archive_path": archive_path,
            "previous": previous,
            "taken_by": taken_by,
            "now": self.now(),
        }
        return self.execute("dirmon_retake_upload", params) == 1
