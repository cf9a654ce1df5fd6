"""The `rocketjob` command: migrate, and one clear line with a named exit code on errors."""

from __future__ import annotations

from pathlib import Path

from processes import rocketjob

from rocketjob.cli import EXIT_CONFIG, EXIT_IMPORT, EXIT_UNAVAILABLE


def test_migrate_applies_then_reports_up_to_date(empty_database_url: str) -> None:
    first = rocketjob("migrate", "--database-url", empty_database_url)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[:2] == ["applied 0001_jobs", "applied 0002_workers"]
    again = rocketjob("migrate", database_url=empty_database_url)
    assert (again.returncode, again.stdout.strip()) == (0, "the schema is up to date")


def test_a_bad_url_is_one_line_and_exit_code_78() -> None:
    result = rocketjob("migrate", "--database-url", "mysql://localhost/x")
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip().startswith("rocketjob: error: unsupported database URL")
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_line_and_exit_code_69() -> None:
    result = rocketjob("worker", "--burst", "--database-url", "postgresql://u:pw@127.0.0.1:9/x")
    assert result.returncode == EXIT_UNAVAILABLE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(
        "rocketjob: error: cannot connect to PostgreSQL at postgresql://u:***@"
    )


def test_a_job_module_that_cannot_be_imported_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = rocketjob("worker", "--burst", "--import", "no_such_module", database_url=url)
    assert result.returncode == EXIT_IMPORT
    assert result.stderr.strip() == (
        "rocketjob: error: cannot import no_such_module: "
        "ModuleNotFoundError: No module named 'no_such_module'"
    )
