"""Dirmon entries: validated when saved, on both backends; states as operators move them."""

from __future__ import annotations

import os
from pathlib import Path

import dirmon_jobs
import pytest

import rocketjob as rj
from rocketjob import config
from rocketjob.store import Store


def _problems(refused: pytest.ExceptionInfo[rj.ValidationError]) -> dict[str, str]:
    return dict(refused.value.errors)


def test_an_entry_is_saved_pending_and_found_by_name(store: Store, inbox: Path) -> None:
    entry = rj.DirmonEntry.create(
        name="orders",
        pattern=f"{inbox}/in/**/*.{{csv,txt}}",
        job_class=dirmon_jobs.Ingest,
        properties={"customer": "globex", "priority": 20},
    )
    assert entry.state is rj.DirmonState.PENDING
    found = rj.DirmonEntry.find("orders")
    assert found == entry
    assert found.job_class == "dirmon_jobs.Ingest"
    assert found.properties == {"customer": "globex", "priority": 20}
    assert found.archive_directory == "archive"
    assert [e.name for e in rj.DirmonEntry.all()] == ["orders"]


def test_bad_values_are_refused_naming_each_field(store: Store, inbox: Path) -> None:
    rj.DirmonEntry.create(name="taken", pattern=f"{inbox}/in/*", job_class=dirmon_jobs.Ingest)
    with pytest.raises(rj.ValidationError) as refused:
        rj.DirmonEntry.create(
            name="taken",
            pattern=f"{inbox}/in/*.csv",
            job_class=dirmon_jobs.Ingest,
            properties={"batch_size": "many", "colour": "red"},
        )
    problems = _problems(refused)
    assert problems["name"] == "'taken' is taken"
    assert "valid integer" in problems["properties.batch_size"]
    assert problems["properties.colour"] == "unknown field"
    with pytest.raises(rj.ValidationError) as refused:
        rj.DirmonEntry.create(name="x", pattern="/in/*", job_class="myapp.NotImported")
    assert "not an imported rocketjob.Job subclass" in _problems(refused)["job_class"]
    with pytest.raises(rj.ValidationError) as refused:
        rj.DirmonEntry.create(name="x", pattern=f"{inbox}/in/*", job_class=dirmon_jobs.NoFileField)
    assert "must declare `upload_file_name: str`" in _problems(refused)["job_class"]


@pytest.mark.parametrize(
    "pattern",
    ["/etc/*", "{root}/in/../../*", "in/*.csv", "{root}/link/*"],
    ids=["outside", "dotdot", "relative", "symlink-out"],
)
def test_patterns_outside_the_roots_are_refused(
    store: Store, inbox: Path, tmp_path: Path, pattern: str
) -> None:
    (inbox / "link").symlink_to(tmp_path)  # inside the root, leading out of it
    with pytest.raises(rj.ValidationError) as refused:
        rj.DirmonEntry.create(
            name="x", pattern=pattern.format(root=inbox), job_class=dirmon_jobs.Ingest
        )
    assert "pattern" in _problems(refused)


def test_an_archive_outside_the_roots_is_refused(store: Store, inbox: Path) -> None:
    with pytest.raises(rj.ValidationError) as refused:
        rj.DirmonEntry.create(
            name="x",
            pattern=f"{inbox}/in/*",
            job_class=dirmon_jobs.Ingest,
            archive_directory="/tmp",
        )
    assert "not under a dirmon root" in _problems(refused)["archive_directory"]


def test_an_archive_is_one_entrys_own(store: Store, inbox: Path) -> None:
    rj.DirmonEntry.create(name="csv", pattern=f"{inbox}/in/*.csv", job_class=dirmon_jobs.Ingest)
    (inbox / "done").symlink_to(inbox / "in" / "archive", target_is_directory=True)
    for archive in ("archive", f"{inbox}/in/archive", f"{inbox}/done"):
        with pytest.raises(rj.ValidationError) as refused:
            rj.DirmonEntry.create(
                name="txt",
                pattern=f"{inbox}/in/*.txt",
                job_class=dirmon_jobs.Ingest,
                archive_directory=archive,
            )
        assert _problems(refused) == {
            "archive_directory": f"{archive!r} is the archive directory of dirmon entry csv: "
            "each entry needs its own"
        }
    txt = rj.DirmonEntry.create(
        name="txt", pattern=f"{inbox}/in/*.txt", job_class=dirmon_jobs.Ingest, archive_directory="t"
    )
    assert txt.update(pattern=f"{inbox}/in/*.text").archive_directory == "t"  # its own, still
    with pytest.raises(rj.ValidationError):
        txt.update(archive_directory="archive")


def test_without_roots_an_entry_says_how_to_configure_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "_dirmon_roots", None)
    monkeypatch.delenv(config.DIRMON_ROOTS_ENV, raising=False)
    with pytest.raises(rj.ValidationError) as refused:
        rj.DirmonEntry.create(name="x", pattern="/data/*", job_class=dirmon_jobs.Ingest)
    assert "rj.configure(dirmon_roots=" in _problems(refused)["pattern"]
    monkeypatch.setenv(config.DIRMON_ROOTS_ENV, os.pathsep.join(["/data", "/srv"]))
    assert config.dirmon_roots() == ("/data", "/srv")


def test_states_move_as_the_actions_allow(store: Store, inbox: Path) -> None:
    entry = rj.DirmonEntry.create(name="x", pattern=f"{inbox}/in/*", job_class=dirmon_jobs.Ingest)
    assert entry.actions == ["enable"]
    with pytest.raises(rj.InvalidTransition, match="cannot disable dirmon entry x: it is pending"):
        entry.disable()
    entry = entry.enable()
    assert entry.state is rj.DirmonState.ENABLED
    entry = entry.disable().enable()
    store.dirmon_failed(entry.id, "OSError: gone")
    failed = entry.reload()
    assert (failed.state, failed.last_error) == (rj.DirmonState.FAILED, "OSError: gone")
    enabled = failed.enable()
    assert (enabled.state, enabled.last_error) == (rj.DirmonState.ENABLED, None)
    renamed = enabled.update(name="y", properties={"customer": "initech"})
    assert (renamed.name, renamed.state) == ("y", rj.DirmonState.ENABLED)
    renamed.destroy()
    with pytest.raises(rj.DirmonEntryNotFound):
        rj.DirmonEntry.find("y")
