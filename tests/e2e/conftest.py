"""Real headless Chromium (the system's, driven by playwright) against real servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import CHROMIUM, CHROMIUM_ARGS, Server, free_port, responds, stop
from processes import Background, cli_env, start_rocketjob, wait_until
from workers import worker_row

import rocketjob as rj


# One Chromium per test file, not per session: a sync Playwright keeps its event loop set as
# running on the main thread while it is open, and the tests after these (perform_now() of
# an async job, which refuses to block a running loop) must find none.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{reason}, and CI requires it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh page; the test fails on any JavaScript console error or uncaught exception."""
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    yield opened
    context.close()
    assert errors == [], f"JavaScript console errors: {errors}"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A SQLite database this test process and the servers it starts share."""
    url = f"sqlite:///{tmp_path / 'e2e.sqlite3'}"
    rj.configure(url)
    rj.Job.counts()  # creates the schema before any server opens the file
    yield url
    rj.configure(None)


@pytest.fixture
def server(database: str) -> Iterator[Server]:
    """`rocketjob web` as a real process."""
    port = free_port()
    process = start_rocketjob(
        "web",
        "--port",
        str(port),
        "--import",
        "sample_jobs",
        "--import",
        "batch_jobs",
        database_url=database,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or responds(f"{url}/jobs"), 30, "web")
        assert process.poll() is None, process.output()
        yield Server(url, database)
    finally:
        stop(process)


@pytest.fixture
def mounted_server(database: str, tmp_path: Path) -> Iterator[Server]:
    """A host application serving Mission Control under /ops/rocketjob, with uvicorn."""
    port = free_port()
    with (tmp_path / "uvicorn.log").open("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "mounted_app:app", "--port", str(port)],
            env=cli_env(database),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/ops/rocketjob"
        try:
            wait_until(lambda: process.poll() is not None or responds(f"{url}/jobs"), 30, "mount")
            assert process.poll() is None, log.read()
            yield Server(url, database)
        finally:
            process.terminate()
            process.wait(15)


@pytest.fixture
def worker(database: str) -> Iterator[Background]:
    """A real `rocketjob worker` on the test's database, running until the test ends."""
    process = start_rocketjob(
        "worker",
        "--import",
        "sample_jobs",
        "--threads",
        "2",
        "--poll-interval",
        "0.2",
        "--stop-timeout",
        "0.5",
        database_url=database,
    )
    try:
        # Registered and running before any page looks for it.
        wait_until(
            lambda: process.poll() is not None or worker_row(process.pid, "running"), 30, "worker"
        )
        assert process.poll() is None, process.output()
        yield process
    finally:
        stop(process)
