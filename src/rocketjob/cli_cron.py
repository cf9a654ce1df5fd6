"""`rocketjob cron …`: the Cron page of Mission Control on the command line.

list reads (--json for scripts: what GET /api/cron answers); run-now, pause and resume act
on the job a schedule keeps waiting for its next run. Errors are one line on stderr with
the exit codes of `rocketjob.cli`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

import rocketjob as rj
from rocketjob import config
from rocketjob.cli import database_url_option, reports_errors
from rocketjob.mission_control.views import cron_status, exact_utc, jsonable, relative_time

_ACT = {"run-now": rj.run_cron_now, "pause": rj.pause_cron, "resume": rj.resume_cron}
_HELP = {
    "run-now": "Run CLASS's waiting job now, ahead of its schedule.",
    "pause": "Pause CLASS's schedule: nothing of it runs until it is resumed.",
    "resume": "Resume CLASS's paused schedule.",
}


def _console() -> Console:
    # Wide enough for class names when the output goes to a file or a pipe.
    return Console(width=None if Console().is_terminal else 200, highlight=False)


@click.group()
def cron() -> None:
    """See cron schedules, and run now, pause or resume them."""


@cron.command("list")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as GET /api/cron answers).")
@reports_errors
def list_schedules(database_url: str, as_json: bool) -> None:
    """Every cron schedule: in words, time zone, next run, paused or not, latest run."""
    config.configure(database_url)
    found = rj.list_cron()
    if as_json:
        click.echo(json.dumps(jsonable([info.as_dict() for info in found]), indent=2))
        return
    if not found:
        click.echo("no cron schedules: set cron on a job class and start a worker that imports it")
        return
    now = config.get_store().now()
    table = Table("class", "schedule", "time zone", "next run", "state", "last run")
    for info in found:
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    info.class_name,
                    f"{info.in_words}\n{info.cron}",
                    info.timezone,
                    next_run_text(info, now),
                    cron_status(info, now).label,
                    last_run_text(info, now),
                )
            )
        )
    _console().print(table)


def next_run_text(info: rj.CronInfo, now: datetime) -> str:
    status = cron_status(info, now)
    at = info.next_run_at
    if status.next_run == "none":
        return "— (when a worker that imports it runs)"
    if at is None:
        return "now, when a worker is free"
    when = f"{exact_utc(at)} ({relative_time(at, now)})"
    if status.next_run == "on_resume":
        return f"when resumed (was {when})"
    return f"due since {when}" if status.next_run == "due" else when


def last_run_text(info: rj.CronInfo, now: datetime) -> str:
    if info.last_job_id is None:
        return "not run yet"
    gone = "" if info.last_job_kept else " (gone)"
    if info.last_finished_at is not None:
        when = relative_time(info.last_finished_at, now)
    elif info.last_started_at is not None:
        when = f"started {relative_time(info.last_started_at, now)}"
    else:
        when = ""
    return f"#{info.last_job_id}{gone} {info.last_outcome or 'running'} {when}".rstrip()


def _cron_action(verb: str) -> Callable[..., None]:
    @database_url_option
    @click.argument("class_name", metavar="CLASS")
    @reports_errors
    def command(database_url: str, class_name: str) -> None:
        config.configure(database_url)
        info = _ACT[verb](class_name)
        now = config.get_store().now()
        if verb == "run-now":
            click.echo(f"{class_name} runs now: job {info.pending_id} is due")
        elif verb == "pause":
            click.echo(f"paused {class_name}: nothing of it runs until it is resumed")
        else:
            click.echo(f"resumed {class_name}: next run {next_run_text(info, now)}")

    command.__doc__ = _HELP[verb]
    return command


for _verb in _ACT:
    cron.command(_verb)(_cron_action(_verb))
