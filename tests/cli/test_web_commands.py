"""`rocketjob web` and `rocketjob demo` as real processes."""

from __future__ import annotations

import json
import re
import urllib.request
from html import unescape
from pathlib import Path
from typing import Any

from browsing import free_port, responds, stop
from long_names import failed_with_long_names
from processes import rocketjob, start_rocketjob, wait_until

import rocketjob as rj
from rocketjob.cli import EXIT_CONFIG
from rocketjob.store import open_store


def test_web_refuses_another_address_without_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    result = rocketjob("web", "--host", "0.0.0.0", "--port", "1", database_url=url)
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.strip() == (
        "rocketjob: error: refusing to serve Mission Control on 0.0.0.0 without sign-in: "
        "set ROCKETJOB_WEB_USERS=name:password (HTTP Basic; put TLS in front) or pass --insecure"
    )


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_demo_serves_a_live_mix_of_jobs_and_cleans_up(tmp_path: Path) -> None:
    port = free_port()
    demo = start_rocketjob("demo", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: demo.poll() is not None or responds(f"{base}/jobs"), 30, "demo")
        assert demo.poll() is None, stop(demo)

        def mixed() -> dict[str, int] | None:
            counts: dict[str, int] = get_json(f"{base}/api/jobs/counts")
            done = counts["failed"] >= 1 and counts["completed"] >= 1 and counts["running"]
            return counts if done else None

        counts = wait_until(mixed, 30, "the worker to run the demo jobs")
        assert counts["scheduled"] == 3
        assert counts["paused"] == 1
        batches = get_json(f"{base}/api/jobs?q=PriceOrders")
        (orders,) = batches["jobs"]
        batch = get_json(f"{base}/api/jobs/{orders['id']}")["batch"]
        assert batch["record_count"] == 25_000
        assert sum(batch["slices"].values()) == 100
    finally:
        output = stop(demo)
    assert f"rocketjob demo: open: {base}/" in output
    folder = re.search(r"demo database: sqlite:///(\S+)/demo\.sqlite3", output)
    assert folder is not None, output
    assert not Path(folder.group(1)).exists()


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def test_a_failures_link_longer_than_a_usual_request_head_answers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'long.sqlite3'}"
    store = open_store(url)
    store.migrate()
    rj.configure(store=store)
    # Past what one read of the socket takes (256 KiB), so the server sees the head in parts.
    job = failed_with_long_names(150_000)
    rj.configure(None)
    store.close()
    port = free_port()
    web = start_rocketjob("web", "--port", str(port), database_url=url)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: web.poll() is not None or responds(f"{base}/jobs"), 30, "web")
        html = get_text(f"{base}/failures")
        link = re.search(r'<td class="col-class"><div class="class-cell"><a href="([^"]+)"', html)
        assert link is not None
        assert len(link.group(1)) > 300_000
        listed = get_text(base + unescape(link.group(1)))
        assert re.findall(r'data-job-id="(\d+)"', listed) == [str(job.id)]
    finally:
        stop(web)
