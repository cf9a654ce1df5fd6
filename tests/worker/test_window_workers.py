"""Processing windows on real worker processes, on both backends."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from processes import finish, start_rocketjob, wait_until
from window_jobs import AlwaysOpen, NightlyReport

import rocketjob as rj
from rocketjob.store import Store


def test_a_job_due_after_its_window_closed_goes_back_until_the_next_opening(
    store: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "ran"
    # Queued before the class had its window: due now, in a closed window.
    monkeypatch.setattr(NightlyReport, "processing_window", None)
    late = NightlyReport.create(path=str(out))
    monkeypatch.undo()
    assert late.run_at is None
    running = AlwaysOpen.create(path=str(out))
    worker = start_rocketjob(
        "worker", "--import", "window_jobs", "--poll-interval", "0.05", database_url=database_url
    )
    try:
        wait_until(lambda: running.reload().state == rj.State.COMPLETED, message="the open one ran")
        wait_until(lambda: late.reload().run_at is not None, message="the late one put back")
        worker.send_signal(signal.SIGTERM)
        finish(worker)
    finally:
        worker.close()
    window = NightlyReport.processing_window
    assert window is not None
    assert late.state == rj.State.QUEUED
    assert late.run_at == window.next_opening(datetime.now(UTC))
    back = late.history()[-1]
    assert (back.action, back.to_state) == ("requeue", "queued")
    assert back.message == window.closed_message(datetime.now(UTC))
    assert out.read_text().split() == [str(running.id)]  # the late one never ran
