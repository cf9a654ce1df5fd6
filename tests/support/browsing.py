"""Driving Chromium against real Mission Control servers: where it is, and small helpers."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect
from processes import Background

EPHEMERAL_PORTS = "/proc/sys/net/ipv4/ip_local_port_range"
CHROMIUM = os.environ.get("ROCKETJOB_TEST_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium's connections hang on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A port no server listens on, below the ephemeral range: a port the kernel picked
    could be handed to some outgoing connection before our server binds it."""
    first_ephemeral = 32768
    with contextlib.suppress(OSError, ValueError):
        first_ephemeral = int(Path(EPHEMERAL_PORTS).read_text().split()[0])
    candidates = list(range(10_000, max(first_ephemeral, 10_001)))
    random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop(process: Background) -> str:
    """Stops the process as a supervisor would (SIGTERM, then SIGKILL); its output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    output = process.output()
    process.close()
    return output


@dataclass
class Server:
    url: str  # where Mission Control answers, without a trailing slash
    database_url: str


def confirm(page: Page, label: str) -> None:
    """Answers the confirmation dialog the action opened."""
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=label, exact=True).click()


def mark_page(page: Page) -> None:
    # A value only this loaded document holds: gone if anything reloads the page.
    page.evaluate("window.stillTheSamePage = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.stillTheSamePage === true"), "the page was reloaded"
