"""`rocketjob jobs …`: every action of Mission Control's job pages, on the command line.

list, show, why, counts and failures read; retry, pause, resume, fail, abort, run-now and
destroy act on one job; retry-failed and abort-failed act on every failed job a filter
matches. Errors are one line on stderr with the exit codes of `rocketjob.cli`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

import rocketjob as rj
from rocketjob import config
from rocketjob.cli import database_url_option, import_modules, reports_errors
from rocketjob.failures import describe_filter
from rocketjob.mission_control.views import duration_text, exact_utc, field_views, retry_text
from rocketjob.states import LIST_STATES, Action, list_state

imports_option = click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Module defining job classes, to show their fields and allow their actions.",
)
LIST_LIMIT = 50
# Past tense of each action, for what the command prints once it is done.
DONE = {
    Action.RETRY: "retried",
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
    Action.FAIL: "failed",
    Action.ABORT: "aborted",
    Action.RUN_NOW: "started early",
    Action.DESTROY: "destroyed",
}


def _open(database_url: str, modules: tuple[str, ...] = ()) -> datetime:
    import_modules(modules)
    config.configure(database_url)
    return config.get_store().now()


def _console() -> Console:
    # Wide enough for class names when the output goes to a file or a pipe.
    return Console(width=None if Console().is_terminal else 200, highlight=False)


@click.group()
def jobs() -> None:
    """See jobs, and retry, pause, resume, fail, abort, run or destroy them."""


@jobs.command("list")
@database_url_option
@click.option("--state", type=click.Choice(LIST_STATES), help="Only jobs in this list.")
@click.option("--class", "class_name", metavar="CLASS", help="Only jobs of this class.")
@click.option("-q", "--search", "q", metavar="TEXT", help="Class name or description contains.")
@click.option("--limit", default=LIST_LIMIT, show_default=True, type=click.IntRange(1, 10_000))
@reports_errors
def list_jobs(
    database_url: str, state: str | None, class_name: str | None, q: str | None, limit: int
) -> None:
    """The newest jobs (scheduled: the soonest), as Mission Control lists them."""
    now = _open(database_url)
    if q and class_name:
        raise click.UsageError("give --class or --search, not both")
    page = rj.Job.page(state, q=q, limit=limit, class_name=class_name)
    if not page.jobs:
        click.echo("no jobs match" if q or class_name or state else "no jobs yet")
        return
    table = Table("id", "class", "state", "description", "duration", "priority", "progress")
    for job in page.jobs:
        shown = list_state(job.state, job.run_at, now)
        table.add_row(
            *_cells(
                job.id,
                job.class_name,
                shown,
                job.description or "",
                duration_text(job, now),
                job.priority,
                f"{job.percent_complete}%" if shown == "running" else "",
            )
        )
    _console().print(table)
    if page.next_cursor:
        click.echo(f"… and more: raise --limit (showing {limit})")


@jobs.command()
@database_url_option
@imports_option
@click.argument("job_id", metavar="ID", type=click.IntRange(1))
@reports_errors
def show(database_url: str, modules: tuple[str, ...], job_id: int) -> None:
    """Every field of job ID, its exception with backtrace, and its history."""
    now = _open(database_url, modules)
    job = rj.Job.find(job_id)
    out = _console()
    shown = list_state(job.state, job.run_at, now)
    out.print(
        f"[bold]{escape(job.class_name)} #{job.id}[/bold]  {shown}, {duration_text(job, now)}"
    )
    if job.load_error:
        out.print(job.load_error, markup=False)
    rows: list[tuple[str, Any]] = [
        ("description", job.description),
        ("state", f"{job.state}" + (f" ({job.sub_state})" if job.sub_state else "")),
        ("priority", job.priority),
        *((name, _when(getattr(job, name))) for name in _TIMES),
        ("worker", job.worker_name),
        ("progress", f"{job.percent_complete}%"),
        ("failures", job.failure_count),
        ("retries", retry_text(job, now) or "none"),
        ("destroy on complete", "yes" if job.destroy_on_complete else "no"),
        ("actions", ", ".join(a.value for a in job.actions) or "none"),
    ]
    if job.singleton_slot:
        rows.append(("singleton", job.singleton_slot))
    neighbours = job.dependencies()
    if neighbours.waits_on:
        waits = ", ".join(n.in_words() for n in neighbours.waits_on)
        rows.append(("waits on", f"{waits} — {job.waiting_on} not completed"))
    if neighbours.waited_on_by:
        rows.append(("waited on by", ", ".join(n.in_words() for n in neighbours.waited_on_by)))
    _pairs(out, "Details", rows)
    _pairs(out, "Fields", [(f.name, f.text) for f in field_views(job.fields)])
    if isinstance(job, rj.BatchJob):
        status = job.batch_status()
        slices = ", ".join(f"{n} {state}" for state, n in status.slices.items())
        _pairs(out, "Batch", [("records", status.record_count), ("slices", slices)])
    if job.exception:
        out.print(f"\n[bold]Exception[/bold] {escape(job.exception.class_name)}: ", end="")
        out.print(job.exception.message, markup=False)
        for line in job.exception.backtrace:
            out.print(f"  {line}", markup=False, soft_wrap=True)
    history = Table("when", "action", "transition", "by", "message", title="History")
    for entry in job.history():
        moved = f"{entry.from_state or '—'} → {entry.to_state}"
        history.add_row(*_cells(exact_utc(entry.at), entry.action, moved, entry.by, entry.message))
    out.print(history)


_TIMES = ("created_at", "run_at", "started_at", "completed_at", "expires_at")


@jobs.command()
@database_url_option
@imports_option
@click.option("--json", "as_json", is_flag=True, help="Print the reasons as JSON.")
@click.argument("job_id", metavar="ID", type=click.IntRange(1))
@reports_errors
def why(database_url: str, modules: tuple[str, ...], as_json: bool, job_id: int) -> None:
    """Why job ID is waiting: every reason that holds now, one a line (--import its
    module for its throttle limit and processing window)."""
    _open(database_url, modules)
    job = rj.Job.find(job_id)
    reasons = job.waiting_reasons()
    if as_json:
        click.echo(json.dumps([reason.to_json() for reason in reasons]))
    elif reasons:
        for reason in reasons:
            click.echo(f"{reason.code}: {reason.message}")
    elif job.state in (rj.State.QUEUED, rj.State.PAUSED):
        click.echo(f"job #{job_id} waits for nothing: the next free worker takes it")
    else:
        click.echo(f"job #{job_id} is not waiting: it is {job.state}")


def _cells(*values: object) -> list[Text]:
    """Table cells as plain text: what jobs carry is never read as markup."""
    return [Text("—" if value is None else str(value)) for value in values]


def _when(at: datetime | None) -> str:
    return exact_utc(at) if at else "—"


def _pairs(out: Console, title: str, rows: list[tuple[str, Any]]) -> None:
    if not rows:
        return
    table = Table(title=title, show_header=False, title_justify="left")
    for name, value in rows:
        table.add_row(*_cells(name, value))
    out.print(table)


@jobs.command()
@database_url_option
@reports_errors
def counts(database_url: str) -> None:
    """Jobs per list: running, scheduled, queued, paused, failed, aborted, completed."""
    _open(database_url)
    table = Table("list", "jobs")
    for name, n in rj.Job.counts().items():
        table.add_row(*_cells(name, f"{n:,}"))
    _console().print(table)


_HELP = {
    Action.RETRY: "Retry failed job ID (a batch job: its failed slices).",
    Action.PAUSE: "Pause job ID (queued, or running if its class is pausable).",
    Action.RESUME: "Resume paused job ID.",
    Action.FAIL: "Fail job ID, with an optional --reason.",
    Action.ABORT: "Abort job ID (for good: it cannot be retried).",
    Action.RUN_NOW: "Run scheduled job ID now instead of at its run_at.",
    Action.DESTROY: "Destroy job ID (any state but running).",
}


def _job_action(action: Action) -> Callable[..., None]:
    @database_url_option
    @imports_option
    @click.argument("job_id", metavar="ID", type=click.IntRange(1))
    @reports_errors
    def command(
        database_url: str, modules: tuple[str, ...], job_id: int, reason: str | None = None
    ) -> None:
        _open(database_url, modules)
        job = rj.Job.find(job_id)
        if action is Action.DESTROY:
            job.destroy()
            click.echo(f"destroyed job {job_id} ({job.class_name})")
            return
        if action is Action.FAIL:
            job.fail(reason)
        else:
            getattr(job, action.value)()
        now = config.get_store().now()
        shown = list_state(job.state, job.run_at, now)
        click.echo(f"{DONE[action]} job {job_id} ({job.class_name}): it is {shown}")

    command.__doc__ = _HELP[action]
    if action is Action.FAIL:
        command = click.option("--reason", help="Why (kept as the exception's message).")(command)
    return command


for _action in DONE:
    jobs.command(_action.value.replace("_", "-"))(_job_action(_action))


def _bulk(action: Action) -> Callable[..., None]:
    @database_url_option
    @click.option("--class", "class_name", metavar="CLASS", help="Only failed jobs of this class.")
    @click.option("--exception", metavar="CLASS", help="Only failed jobs that raised this.")
    @click.option("-q", "--search", "q", metavar="TEXT", help="Class name or description contains.")
    @reports_errors
    def command(
        database_url: str, class_name: str | None, exception: str | None, q: str | None
    ) -> None:
        if q and (class_name or exception):
            raise click.UsageError("give --class/--exception or --search, not both")
        _open(database_url)
        which = rj.FailedFilter(class_name, exception, q)
        act = rj.retry_failed if action is Action.RETRY else rj.abort_failed
        outcome = act(which)
        jobs_word = "job" if outcome.done == 1 else "jobs"
        text = f"{DONE[action]} {outcome.done:,} failed {jobs_word}{describe_filter(which)}"
        if outcome.skipped:
            text += f"; skipped {outcome.skipped:,} that changed meanwhile"
        click.echo(text)

    command.__doc__ = f"{action.value.capitalize()} every failed job the options match (all)."
    return command


jobs.command("retry-failed")(_bulk(Action.RETRY))
jobs.command("abort-failed")(_bulk(Action.ABORT))


@jobs.command()
@database_url_option
@reports_errors
def failures(database_url: str) -> None:
    """Failed jobs grouped by job class and exception class, with recent counts."""
    _open(database_url)
    groups = rj.failed_job_groups()
    if not groups:
        click.echo("no failed jobs")
        return
    table = Table("class", "exception", "1 h", "24 h", "7 d", "total", "latest")
    for g in groups:
        counts = (g.last_hour, g.last_day, g.last_week, g.total)
        latest = f"#{g.latest_id}: {g.latest_message or ''}"
        table.add_row(*_cells(g.class_name, g.exception_class, *counts, latest))
    _console().print(table)
