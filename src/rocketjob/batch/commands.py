"""`rocketjob batch upload CLASS FILE` and `rocketjob batch download ID FILE`."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from rocketjob import config
from rocketjob.batch.formats import delimiter_problem
from rocketjob.batch.job import BatchJob
from rocketjob.cli import EXIT_IMPORT, _fail, database_url_option, import_modules, reports_errors
from rocketjob.errors import InvalidTransition, JobNotFound, RocketJobError, UploadError
from rocketjob.jobs import Job

imports_option = click.option(
    "--import",
    "modules",
    multiple=True,
    metavar="MODULE",
    help="Module defining the job class (repeatable).",
)


@click.group()
def batch() -> None:
    """Upload records into batch jobs and download their output."""


def batch_class(path: str) -> type[BatchJob]:
    """The BatchJob subclass named `module.QualName`, importing its module."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name, None)
        if isinstance(found, type) and issubclass(found, BatchJob):
            return found
        break
    _fail(f"{path} is not a rocketjob.BatchJob class that can be imported", EXIT_IMPORT)
    raise AssertionError("unreachable")


# Delimiters hard to type on a command line, by the names people type instead.
TYPED_DELIMITERS = {"\\t": "\t", "tab": "\t"}


def _delimiter(context: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    value = TYPED_DELIMITERS.get(value.lower(), value)
    if problem := delimiter_problem(value):
        raise click.BadParameter(problem)
    return value


def _encoding(context: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            "\n".encode(value)
        except LookupError:
            raise click.BadParameter(f"unknown text encoding {value!r}") from None
    return value


@batch.command()
@database_url_option
@click.argument("class_path", metavar="CLASS")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--description", default=None, help="The job's description.")
@click.option("--priority", type=click.IntRange(1, 100), default=None)
@click.option(
    "--encoding",
    default=None,
    callback=_encoding,
    metavar="NAME",
    help="The file's encoding, e.g. cp1252 (default: its byte order mark's, else utf-8).",
)
@click.option(
    "--delimiter",
    default=None,
    callback=_delimiter,
    metavar="CHAR",
    help="What separates CSV fields: ';', '|', 'tab' or '\\t'... (default: ',').",
)
@reports_errors
def upload(
    database_url: str,
    class_path: str,
    file: Path,
    description: str | None,
    priority: int | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Create a batch job of CLASS (module.Name) and upload FILE into it (.gz/.bz2/.zip)."""
    cls = batch_class(class_path)
    config.configure(database_url)
    values: dict[str, object] = {"description": description}
    if priority is not None:
        values["priority"] = priority
    job = cls.create(**values)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[records]:,} records"),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(file.name, total=file.stat().st_size, records=0)

        def report(records: int, read: int | None) -> None:
            progress.update(task, completed=read or 0, records=records)

        try:
            count = job.upload(file, encoding=encoding, delimiter=delimiter, on_progress=report)
        except UploadError as error:
            _forget(job)
            if encoding is None and error.problem.startswith("cannot be decoded as utf-8:"):
                hint = "name its encoding with --encoding, e.g. --encoding cp1252"
                raise UploadError(error.source, error.where, f"{error.problem} ({hint})") from None
            raise
        except BaseException:
            _forget(job)
            raise
        progress.update(task, completed=file.stat().st_size)
    click.echo(f"job {job.id}: uploaded {count:,} records from {file}")


def _forget(job: BatchJob) -> None:
    # The job was made for this upload alone: it goes with it.
    try:
        job.abort(by="rocketjob batch upload")
        job.destroy(by="rocketjob batch upload")
    except (InvalidTransition, JobNotFound):
        pass


@batch.command()
@database_url_option
@imports_option
@click.argument("job_id", metavar="ID", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--escape-formulas/--no-escape-formulas",
    default=False,
    show_default=True,
    help="Prefix with ' the CSV cells a spreadsheet would run (=, +, -, @, tab, CR).",
)
@reports_errors
def download(
    database_url: str, modules: tuple[str, ...], job_id: int, file: Path, escape_formulas: bool
) -> None:
    """Write the output of batch job ID to FILE, compressed by its name (.gz/.bz2/.zip)."""
    import_modules(modules)
    config.configure(database_url)
    job = Job.find(job_id)
    if not isinstance(job, BatchJob):
        hint = " (import its module with --import)" if job.load_error else ""
        raise RocketJobError(f"job {job_id} is a {job.class_name}, not a batch job{hint}")
    try:
        count = job.download(file, escape_formulas=escape_formulas)
    except OSError as error:
        raise RocketJobError(f"cannot write {file}: {error.strerror or error}") from None
    click.echo(f"job {job_id}: downloaded {count:,} records to {file}")
