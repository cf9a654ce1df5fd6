"""Where the database is, and one clear error when it cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

import rocketjob as rj
from rocketjob import config
from rocketjob.store import open_store


def test_the_url_comes_from_configure_then_the_environment_then_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(config.DATABASE_URL_ENV, raising=False)
    rj.configure(None)
    assert rj.database_url() == "sqlite:///rocketjob.sqlite3"
    monkeypatch.setenv(config.DATABASE_URL_ENV, "sqlite:///from-env.db")
    assert rj.database_url() == "sqlite:///from-env.db"
    rj.configure("sqlite:///configured.db")
    try:
        assert rj.database_url() == "sqlite:///configured.db"
    finally:
        rj.configure(None)


@pytest.mark.parametrize("url", ["mysql://localhost/x", "redis://localhost", "nonsense"])
def test_unknown_url_schemes_are_refused_by_name(url: str) -> None:
    with pytest.raises(rj.ConfigurationError, match="unsupported database URL"):
        open_store(url)


def test_a_sqlite_file_in_a_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(rj.DatabaseUnavailable, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/no/such/dir/x.db")


def test_an_unreachable_postgres_is_one_readable_line() -> None:
    with pytest.raises(rj.DatabaseUnavailable) as refused:
        open_store("postgresql://nobody:secret@127.0.0.1:9/none")
    message = str(refused.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://nobody:***@127.0.0.1:9")
    assert "secret" not in message and "\n" not in message
