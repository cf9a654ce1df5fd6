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
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


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
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Module defining job classes (repeatable).",
)
@click.option("--name", default=None, help="Worker name (default host:pid).")
@click.option("--burst", is_flag=True, help="Exit when no job is left to do.")
@click.option("--poll-interval", default=1.0, show_default=True, type=click.FloatRange(0.01, 60))
@reports_errors
def worker(
    database_url: str,
    threads: int,
    modules: tuple[str, ...],
    name: str | None,
    burst: bool,
    poll_interval: float,
) -> None:
    """Run jobs: claim due jobs by priority and perform them on THREADS threads."""
    from rocketjob.worker import Worker

    import_modules(modules)
    config.configure(database_url, pool_size=threads + 4)
    Worker(threads=threads, burst=burst, name=name, poll_interval=poll_interval).run()


def _add_batch_commands() -> None:
    from rocketjob.batch.commands import batch

    main.add_command(batch)


_add_batch_commands()
