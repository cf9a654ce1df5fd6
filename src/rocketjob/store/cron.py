"""The store's cron half: schedules, the one instance of each that waits, their latest run."""

from __future__ import annotations

from datetime import datetime

from rocketjob.store.executor import Executor, Row


class CronStore(Executor):
    def cron_schedules(self) -> dict[str, tuple[str, str]]:
        """Each cron class's schedule as stored: class name → (cron, time zone)."""
        rows = self.fetch_all("cron_schedules", {})
        return {str(r["class_name"]): (str(r["cron"]), str(r["timezone"])) for r in rows}

    def save_cron_schedule(self, class_name: str, cron: str, timezone: str) -> None:
        params = {"class_name": class_name, "cron": cron, "timezone": timezone, "now": self.now()}
        self.execute("save_cron_schedule", params)

    def insert_cron_job(self, values: dict[str, object]) -> int | None:
        """Creates the instance that waits for the next occurrence (`values`: the insert's
        columns, run_at and cron included); None if one waits already."""
        row = self.fetch_one("insert_cron_job", {**values, "created_at": self.now()})
        return None if row is None else int(row["id"])

    def reschedule_cron_job(self, class_name: str, cron: str, run_at: datetime) -> int:
        params = {"class_name": class_name, "cron": cron, "run_at": run_at}
        return self.execute("reschedule_cron_job", params)

    def drop_cron(self, class_name: str) -> int:
        """Forgets a class's schedule and its waiting instance; how many jobs went."""
        with self.transaction():
            dropped = self.execute("drop_cron_jobs", {"class_name": class_name})
            self.execute("drop_cron_schedule", {"class_name": class_name})
        return dropped

    def cron_started(self, class_name: str, job_id: int) -> None:
        params = {"class_name": class_name, "id": job_id, "now": self.now()}
        self.execute("cron_started", params)

    def cron_finished(self, class_name: str, job_id: int, outcome: str) -> None:
        params = {"class_name": class_name, "id": job_id, "outcome": outcome, "now": self.now()}
        self.execute("cron_finished", params)

    def list_cron(self) -> list[Row]:
        """Every schedule, with its waiting instance's id, state and run_at (if any), and
        its latest run."""
        return self.fetch_all("list_cron", {})
