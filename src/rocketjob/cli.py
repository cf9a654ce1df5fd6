"""The `rocketjob` command."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from rocketjob import config
from rocketjob.errors import (
    ConfigurationError,
    DatabaseUnavailable,
    RocketJobError,
    SchemaOutOfDate,
)
from rocketjob.store import open_store

# Named exit codes (sysexits.h), so scripts and supervisors can tell failures apart.
EXIT_ERROR = 1
EXIT_IMPORT = 3
EXIT_UNAVAILABLE = 69
EXIT_CONFIG = 78

F = TypeVar("F", bound=Callable[..., Any])
LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"

database_url_option = click.option(
    "--database-url",
    envvar=config.DATABASE_URL_ENV,
    default=config.DEFAULT_DATABASE_URL,
    show_default=True,
    help=f"Database to use (or ${config.DATABASE_URL_ENV}).",
)


def _fail(message: str, code: int) -> None:
    click.echo(f"rocketjob: error: {message}", err=True)
    sys.exit(code)


def reports_errors(command: F) -> F:
    """Turns rocketjob's errors into one line on stderr and a named exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigurationError, SchemaOutOfDate) as error:
            _fail(str(error), EXIT_CONFIG)
        except DatabaseUnavailable as error:
            _fail(str(error), EXIT_UNAVAILABLE)
        except RocketJobError as error:
            _fail(str(error), EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


def import_modules(modules: tuple[str, ...]) -> None:
    """Imports the modules that define job classes (from the current directory too)."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as error:
            _fail(f"cannot import {module}: {type(error).__name__}: {error}", EXIT_IMPORT)


@click.group()
@click.version_option(package_name="rocketjob")
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """rocketjob: background and batch jobs, with Mission Control."""
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)


@main.command()
@database_url_option
@reports_errors
def migrate(database_url: str) -> None:
    """Apply the pending schema migrations."""
    store = open_store(database_url)
    try:
        applied = store.migrate()
    finally:
        store.close()
    if applied:
        for migration in applied:
            click.echo(f"applied {migration.version:04d}_{migration.name}")
    else:
        click.echo("the schema is up to date")


@main.command()
@database_url_option
@click.option("--threads", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--async-slots",
    type=click.IntRange(1, 100_000),
    help="Async jobs (async def perform) run at once on the event loop  [default: --threads]",
)
@click.option(
    "--processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Worker processes to run under one supervisor.",
)
@click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Module defining job classes (repeatable).",
)
@click.option("--include", metavar="REGEX", help="Run only job classes matching this.")
@click.option("--exclude", metavar="REGEX", help="Never run job classes matching this.")
@click.option("--name", default=None, help="Worker name (default host:pid).")
@click.option("--burst", is_flag=True, help="Exit when no job is left to do.")
@click.option(
    "--dirmon",
    is_flag=True,
    help="Keep the dirmon scan scheduled (rocketjob.jobs.DirmonJob); needs dirmon roots.",
)
@click.option(
    "--poll-interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 60),
    help="Longest wait between looks for new jobs (and for operators' requests on SQLite).",
)
@click.option(
    "--zombie-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds without a heartbeat after which a worker is dead and its jobs requeued.",
)
@click.option(
    "--stop-timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 86400),
    help="On stop, seconds to let running jobs finish before handing them back.",
)
@click.option("--log-file", type=click.Path(dir_okay=False), help="Also append the log here.")
@click.pass_context
@reports_errors
def worker(
    context: click.Context,
    database_url: str,
    threads: int,
    async_slots: int | None,
    processes: int,
    modules: tuple[str, ...],
    include: str | None,
    exclude: str | None,
    name: str | None,
    burst: bool,
    dirmon: bool,
    poll_interval: float,
    zombie_timeout: float,
    stop_timeout: float,
    log_file: str | None,
) -> None:
    """Run jobs: claim due jobs by priority and perform them on THREADS threads."""
    if log_file:
        handler = logging.FileHandler(log_file)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logging.getLogger().addHandler(handler)
    if dirmon:
        from rocketjob.dirmon.paths import roots

        roots()  # none configured: refuse to start, saying how
        modules = (*modules, "rocketjob.dirmon.job")
    if processes > 1:
        from rocketjob.worker.supervisor import Supervisor

        args = [
            "--log-level", context.find_root().params["log_level"], "worker",
            "--threads", str(threads), "--poll-interval", str(poll_interval),
            "--zombie-timeout", str(zombie_timeout), "--stop-timeout", str(stop_timeout),
        ]  # fmt: skip
        for flag, value in [
            ("--include", include),
            ("--exclude", exclude),
            ("--log-file", log_file),
            ("--async-slots", str(async_slots) if async_slots else None),
            *(("--import", m) for m in modules),
        ]:
            args += [flag, value] if value else []
        args += ["--burst"] if burst else []
        # The URL goes by environment, so no password shows in the process list.
        env = {**os.environ, config.DATABASE_URL_ENV: database_url}
        children = [
            [*args, *(["--name", f"{name}-{i}"] if name else [])] for i in range(1, processes + 1)
        ]
        sys.exit(Supervisor(children, env).run())

    from datetime import timedelta

    from rocketjob.behaviours.asynchronous import EXECUTOR_THREADS
    from rocketjob.worker import Worker

    import_modules(modules)
    # A connection per thread, the worker's own, and those of the event loop's executor.
    config.configure(database_url, pool_size=threads + 4 + EXECUTOR_THREADS)
    Worker(
        threads=threads,
        async_slots=async_slots,
        burst=burst,
        name=name,
        poll_interval=poll_interval,
        include=include,
        exclude=exclude,
        zombie_timeout=timedelta(seconds=zombie_timeout),
        # Heartbeats carry operators' requests: as often as the poll interval, and often
        # enough that a live worker is never mistaken for a dead one.
        heartbeat_interval=min(poll_interval, zombie_timeout / 4),
        stop_timeout=stop_timeout,
    ).run()


@main.group()
def workers() -> None:
    """See the workers, and pause, resume or stop them."""


@workers.command("list")
@database_url_option
@reports_errors
def workers_list(database_url: str) -> None:
    """Every registered worker: state, threads, heartbeat age, jobs it runs."""
    from rich.console import Console
    from rich.table import Table

    from rocketjob.worker.control import list_workers

    config.configure(database_url)
    found = list_workers()
    now = config.get_store().now()
    table = Table("name", "state", "threads busy/total", "started", "heartbeat", "jobs")
    for info in found:
        age = info.heartbeat_age(now).total_seconds()
        state = (
            info.state
            if info.desired_state in (None, info.state)
            else (f"{info.state} → {info.desired_state}")
        )
        table.add_row(
            info.name,
            state,
            f"{len(info.jobs)}/{info.threads}"
            + (f" + {info.async_slots} async" if info.async_slots else ""),
            f"{info.started_at:%Y-%m-%d %H:%M:%S} UTC",
            f"{age:.0f} s ago" + (" (stale)" if info.is_stale(now) else ""),
            ", ".join(f"{job.id} {job.class_name}" for job in info.jobs[:5])
            + (" …" if len(info.jobs) > 5 else ""),
        )
    if found:
        Console().print(table)
    else:
        click.echo("no workers are running")


def _worker_request(verb: str) -> Callable[..., None]:
    @database_url_option
    @click.argument("name", required=False)
    @click.option("--all", "every", is_flag=True, help="Every worker.")
    @reports_errors
    def command(database_url: str, name: str | None, every: bool) -> None:
        from rocketjob.worker import control

        if bool(name) == every:
            raise click.UsageError("give a worker NAME or --all")
        config.configure(database_url)
        asked = getattr(control, f"{verb}_workers")(None if every else name)
        if asked:
            click.echo(f"asked {len(asked)} worker(s) to {verb}: {', '.join(asked)}")
        else:
            click.echo("no workers are running")

    command.__doc__ = f"Ask a worker (or --all) to {verb}."
    return command


for _verb in ("pause", "resume", "stop"):
    workers.command(_verb)(_worker_request(_verb))


@main.command()
@database_url_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Module defining job classes, to show their fields and allow their actions.",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Serve on a non-loopback address without sign-in (ROCKETJOB_WEB_USERS).",
)
@click.option(
    "--max-body",
    metavar="SIZE",
    envvar="ROCKETJOB_WEB_MAX_BODY",
    help="Largest request body accepted, like 512KiB or 2MiB (or $ROCKETJOB_WEB_MAX_BODY); "
    "larger ones get 413 before they are read.  [default: 1MiB]",
)
@reports_errors
def web(
    database_url: str,
    host: str,
    port: int,
    modules: tuple[str, ...],
    insecure: bool,
    max_body: str | None,
) -> None:
    """Serve Mission Control, the web UI and JSON API."""
    from rocketjob.mission_control.limits import parse_size
    from rocketjob.mission_control.server import serve

    limit = parse_size(max_body) if max_body else None
    import_modules(modules)
    serve(host=host, port=port, database_url=database_url, insecure=insecure, max_body=limit)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@reports_errors
def demo(host: str, port: int) -> None:
    """Try it: sample jobs, a worker and Mission Control on a fresh SQLite file."""
    from rocketjob.mission_control import demo

    demo.run(host=host, port=port)


def _add_commands() -> None:
    from rocketjob.batch.commands import batch
    from rocketjob.cli_cron import cron
    from rocketjob.cli_dirmon import dirmon
    from rocketjob.cli_jobs import jobs

    main.add_command(batch)
    main.add_command(cron)
    main.add_command(dirmon)
    main.add_command(jobs)


_add_commands()
