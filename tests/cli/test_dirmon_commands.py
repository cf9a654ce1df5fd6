"""`rocketjob dirmon …`: entries created, listed, enabled and refused from the shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import rocketjob


def test_entries_from_the_command_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROCKETJOB_DIRMON_ROOTS", str(tmp_path))
    url = database_url
    outside = rocketjob("dirmon", "create", "x", "/etc/*", "dirmon_jobs.Ingest",
                        "--import", "dirmon_jobs", database_url=url)  # fmt: skip
    assert outside.returncode == 1
    assert "pattern: '/etc/*' is not under a dirmon root" in outside.stderr
    made = rocketjob("dirmon", "add", "orders", f"{tmp_path}/*.csv", "dirmon_jobs.Ingest",
                     "--properties", '{"customer": "globex"}', "--import", "dirmon_jobs",
                     "--enable", database_url=url)  # fmt: skip
    assert made.returncode == 0, made.stderr
    [entry] = json.loads(rocketjob("dirmon", "list", "--json", database_url=url).stdout)
    assert (entry["name"], entry["state"]) == ("orders", "enabled")
    assert entry["properties"] == {"customer": "globex"}
    assert rocketjob("dirmon", "disable", "orders", database_url=url).returncode == 0
    again = rocketjob("dirmon", "disable", "orders", database_url=url)
    assert again.returncode == 1
    assert "cannot disable dirmon entry orders: it is disabled" in again.stderr
    assert rocketjob("dirmon", "remove", "orders", database_url=url).returncode == 0
    assert json.loads(rocketjob("dirmon", "list", "--json", database_url=url).stdout) == []
