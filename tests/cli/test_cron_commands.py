"""`rocketjob cron …` as a real process on both backends: the schedules as a table or JSON,
Run now, Pause and Resume, and one line on stderr with a non-zero exit when it cannot."""

from __future__ import annotations

import json
import re

import pytest
from cron_jobs import EveryMinute, NineInParis
from processes import rocketjob

import rocketjob as rj
from rocketjob.cli import EXIT_ERROR
from rocketjob.store import Store
from rocketjob.worker.cron import CronKeeper

MINUTE, NINE = "cron_jobs.EveryMinute", "cron_jobs.NineInParis"


def run(store: Store, *args: str) -> tuple[int, str, str]:
    result = rocketjob("cron", *args, database_url=store.url)
    return result.returncode, result.stdout, result.stderr


@pytest.fixture
def keeper(store: Store) -> CronKeeper:
    keeper = CronKeeper(store, [EveryMinute, NineInParis])
    keeper.sync()
    return keeper


def pending(class_name: str) -> int | None:
    return {info.class_name: info.pending_id for info in rj.list_cron()}[class_name]


def rows(out: str) -> list[list[str]]:
    """The table's rows whose first cell names a class, cell by cell."""
    lines = [line for line in out.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
    return [row for row in cells if row[0]]


def test_without_schedules_list_says_how_to_get_one(store: Store) -> None:
    assert run(store, "list") == (
        0,
        "no cron schedules: set cron on a job class and start a worker that imports it\n",
        "",
    )
    assert run(store, "list", "--json")[1] == "[]\n"


def test_list_shows_each_schedule_in_words_with_its_next_and_latest_run(
    store: Store, keeper: CronKeeper
) -> None:
    rj.pause_cron(MINUTE)
    rj.run_cron_now(NINE)
    (ran,) = keeper.claim(lambda: store.claim_jobs("host:1", 1, include="NineInParis"))
    code, out, err = run(store, "list")
    assert (code, err) == (0, "")
    header = next(line for line in out.splitlines() if "┃" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == [
        "class", "schedule", "time zone", "next run", "state", "last run",
    ]  # fmt: skip
    minute, nine = rows(out)
    assert minute[:3] == [MINUTE, "Every minute", "UTC"]
    assert minute[4:] == ["paused", "not run yet"]
    assert nine[:3] == [NINE, "At 09:00 every day", "Europe/Paris"]
    next_run = rj.list_cron()[1].next_run_at
    assert next_run is not None and nine[3].startswith(f"{next_run:%Y-%m-%d %H:%M:%S} UTC (in ")
    assert nine[4] == "scheduled"
    assert re.fullmatch(rf"#{ran['id']} running started (just now|\d+ s ago)", nine[5])
    assert "0 9 * * *" in out and "* * * * *" in out  # as written, under the words


def test_list_json_is_what_the_api_answers(store: Store, keeper: CronKeeper) -> None:
    code, out, _ = run(store, "list", "--json")
    assert code == 0
    minute, nine = json.loads(out)
    info = rj.list_cron()[1]
    assert nine == {
        "class_name": NINE,
        "cron": "0 9 * * *",
        "timezone": "Europe/Paris",
        "in_words": "At 09:00 every day",
        "next_run_at": info.next_run_at.isoformat().replace("+00:00", "Z"),  # type: ignore[union-attr]
        "paused": False,
        "pending_id": info.pending_id,
        "last_job_id": None,
        "last_started_at": None,
        "last_outcome": None,
        "last_finished_at": None,
        "last_job_kept": False,
        "actions": ["run_now", "pause"],
    }
    assert minute["class_name"] == MINUTE


def test_pause_resume_and_run_now_act_on_the_waiting_job(store: Store, keeper: CronKeeper) -> None:
    waiting = pending(NINE)
    assert run(store, "pause", NINE) == (
        0,
        f"paused {NINE}: nothing of it runs until it is resumed\n",
        "",
    )
    assert rj.Job.find(waiting).state is rj.State.PAUSED  # type: ignore[arg-type]
    assert rj.Job.find(waiting).history()[-1].by.startswith("user:")  # type: ignore[arg-type]
    code, out, _ = run(store, "resume", NINE)
    assert code == 0 and out.startswith(f"resumed {NINE}: next run ")
    assert run(store, "run-now", NINE)[1] == f"{NINE} runs now: job {waiting} is due\n"
    assert [row["id"] for row in store.claim_jobs("host:1", 5)] == [waiting]


def test_what_cannot_be_done_is_one_line_and_a_non_zero_exit(
    store: Store, keeper: CronKeeper
) -> None:
    assert run(store, "pause", "cron_jobs.Hourly") == (
        EXIT_ERROR,
        "",
        "rocketjob: error: no cron schedule of cron_jobs.Hourly: a schedule is known once a "
        "worker that imports its class has started\n",
    )
    waiting = pending(MINUTE)
    assert run(store, "resume", MINUTE) == (
        EXIT_ERROR,
        "",
        f"rocketjob: error: cannot resume a queued job: job #{waiting}, the next run of {MINUTE}\n",
    )
    rj.Job.find(waiting).destroy()  # type: ignore[arg-type]
    code, out, err = run(store, "run-now", MINUTE)
    assert (code, out) == (EXIT_ERROR, "")
    assert err.startswith(f"rocketjob: error: cannot run now {MINUTE}: no job of it is waiting")
    assert err.count("\n") == 1
