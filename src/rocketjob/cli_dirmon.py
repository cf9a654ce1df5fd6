"""`rocketjob dirmon …`: the Dirmon page of Mission Control on the command line.

list reads (--json for scripts: what GET /api/dirmon answers); create, enable, disable and
destroy change entries (add and remove are their other names); `scan --once` scans every
enabled entry here and now, as the DirmonJob of a worker does. Errors are one line on
stderr with the exit codes of `rocketjob.cli`.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

import rocketjob as rj
from rocketjob import config
from rocketjob.cli import database_url_option, import_modules, reports_errors
from rocketjob.mission_control.views import jsonable, relative_time

import_option = click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Module defining the job class (repeatable).",
)


@click.group()
def dirmon() -> None:
    """Dirmon entries: files dropped in a watched directory become jobs."""


@dirmon.command("list")
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as GET /api/dirmon answers).")
@reports_errors
def list_entries(database_url: str, as_json: bool) -> None:
    """Every entry: state, pattern, job class, last scan, files started, last error."""
    config.configure(database_url)
    entries = rj.DirmonEntry.all()
    if as_json:
        click.echo(json.dumps(jsonable([entry.as_dict() for entry in entries]), indent=2))
        return
    if not entries:
        click.echo("no dirmon entries: add one with `rocketjob dirmon create`")
        return
    now = config.get_store().now()
    table = Table("id", "name", "state", "pattern", "job class", "last scan", "started", "error")
    for entry in entries:
        scanned = relative_time(entry.last_scan_at, now) if entry.last_scan_at else "never"
        cells = (
            str(entry.id),
            entry.name,
            entry.state.value,
            entry.pattern,
            entry.job_class,
            scanned,
            str(entry.files_started),
            entry.last_error or "",
        )
        table.add_row(*(Text(cell) for cell in cells))
    width = None if Console().is_terminal else 200
    Console(width=width, highlight=False).print(table)


def _properties(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise rj.ValidationError("dirmon entry", [("properties", f"not JSON: {error}")]) from None
    if not isinstance(value, dict):
        raise rj.ValidationError("dirmon entry", [("properties", "must be a JSON object")])
    return value


@database_url_option
@click.argument("name")
@click.argument("pattern")
@click.argument("job_class", metavar="JOB_CLASS")
@click.option("--properties", metavar="JSON", help="Job field values: '{\"priority\": 20}'.")
@click.option("--archive-directory", default="archive", show_default=True)
@click.option("--enable", "enabled", is_flag=True, help="Enable it at once.")
@import_option
@reports_errors
def create(
    database_url: str,
    name: str,
    pattern: str,
    job_class: str,
    properties: str | None,
    archive_directory: str,
    enabled: bool,
    modules: tuple[str, ...],
) -> None:
    """Add an entry NAME: each file matching PATTERN starts a JOB_CLASS job."""
    import_modules(modules)
    config.configure(database_url)
    entry = rj.DirmonEntry.create(
        name=name,
        pattern=pattern,
        job_class=job_class,
        properties=_properties(properties),
        archive_directory=archive_directory,
    )
    if enabled:
        entry = entry.enable()
    click.echo(f"dirmon entry {entry.id} {entry.name} created ({entry.state.value})")


dirmon.add_command(dirmon.command("create")(create), "add")


def _action(verb: str) -> Any:
    @database_url_option
    @click.argument("entry", metavar="NAME_OR_ID")
    @reports_errors
    def command(database_url: str, entry: str) -> None:
        config.configure(database_url)
        found = rj.DirmonEntry.find(entry)
        if verb == "destroy":
            found.destroy()
            click.echo(f"dirmon entry {found.name} destroyed")
            return
        moved = found.enable() if verb == "enable" else found.disable()
        click.echo(f"dirmon entry {moved.name} is {moved.state.value}")

    command.__doc__ = f"{verb.capitalize()} a dirmon entry."
    return command


for _verb in ("enable", "disable", "destroy"):
    dirmon.command(_verb)(_action(_verb))
dirmon.command("remove", help="Same as destroy: destroy a dirmon entry.")(_action("destroy"))


@dirmon.command("scan")
@database_url_option
@click.option("--once", is_flag=True, required=True, help="Scan every enabled entry once.")
@import_option
@reports_errors
def scan(database_url: str, once: bool, modules: tuple[str, ...]) -> None:
    """Scan every enabled entry now (files seen unchanged since an earlier scan start)."""
    from rocketjob.dirmon.scan import Scanner
    from rocketjob.jobs import process_name

    import_modules(modules)
    config.configure(database_url)
    report = Scanner(config.get_store(), process_name()).scan_all()
    failed = f"; failed: {', '.join(report.failed)}" if report.failed else ""
    click.echo(f"{report.entries} entries scanned, {len(report.started)} jobs started{failed}")
