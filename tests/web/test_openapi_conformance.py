"""The JSON API does what /api/openapi.json says, checked by Schemathesis against a real
`rocketjob web` with sign-in on, over a database holding jobs in every state, a failed
batch, a worker and cron schedules: no 5xx, and every status, body and content type as
documented."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from batch_jobs import Squares
from batching import process, start
from browsing import free_port, stop
from cron_jobs import EveryMinute, NineInParis
from failing import failed_by_worker
from processes import cli_env, start_rocketjob, wait_until
from sample_jobs import Kept, Noop, Typed

import rocketjob as rj
from rocketjob.store import Store
from rocketjob.worker.cron import CronKeeper

CONFIG = Path(__file__).with_name("schemathesis.toml")
USER, PASSWORD = "ops", "s3cret"


def seed(store: Store, tmp_path: Path) -> None:
    """A failed batch, then a job in every state, a worker that runs one of them, and two
    cron schedules (one paused), as a worker that imports their classes leaves them."""
    broken = tmp_path / "broken"
    broken.touch()
    batch = Squares.create(broken=str(broken), fail_every=30)
    batch.upload(range(1, 201))
    start(store)
    process(store)
    assert batch.reload().state is rj.State.FAILED
    store.register_worker("host:1", "host", 1, 4)
    running = Noop.create(description="running")
    assert [row["id"] for row in store.claim_jobs("host:1", 1)] == [running.id]
    later = datetime.now(UTC) + timedelta(days=1)
    for i in range(3):  # several of each, so some are left after the run destroys a few
        Noop.create(description=f"queued {i}")
        Typed.create(name="Ada", tags=["x"], when=datetime(2030, 1, 1, tzinfo=UTC))
        Noop.create(description=f"scheduled {i}", run_at=later)
        Noop.create(description=f"paused {i}").pause()
        Noop.create(description=f"aborted {i}").abort()
        Kept.create(description=f"completed {i}").perform_now()
        failed_by_worker(f"card {i} declined")
    CronKeeper(store, [EveryMinute, NineInParis]).sync()
    rj.pause_cron(NineInParis.class_name)
    assert all(rj.Job.counts().values())


@pytest.fixture
def served(
    store: Store, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    seed(store, tmp_path)
    monkeypatch.setenv("ROCKETJOB_WEB_USERS", f"{USER}:{PASSWORD}")
    port = free_port()
    server = start_rocketjob(
        "web",
        "--port",
        str(port),
        "--import",
        "sample_jobs",
        "--import",
        "batch_jobs",
        database_url=database_url,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: server.poll() is not None or _listening(base), 30, "Mission Control")
        assert server.poll() is None, server.output()
        yield base
    finally:
        output = stop(server)
    assert "Traceback" not in output, output


def _listening(base: str) -> bool:
    # Signed in, it answers 401 to a stranger: answering at all is enough here.
    try:
        urllib.request.urlopen(f"{base}/api/jobs/counts", timeout=2).close()
    except urllib.error.HTTPError as error:
        return error.code == 401
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    return True


def test_the_api_keeps_to_its_openapi_document(served: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "--no-color",
            "run",
            f"{served}/api/openapi.json",
            "--auth",
            f"{USER}:{PASSWORD}",
        ],
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
        cwd=tmp_path,
    )
    output = run.stdout + run.stderr
    print(output)  # what was tested, shown with pytest -s
    assert run.returncode == 0, output
    assert "Tested: 18" in output, output
    generated = re.search(r"(\d+) generated", output)
    assert generated is not None and int(generated.group(1)) > 200, output
    assert "failure" not in output.split("SUMMARY")[-1].lower(), output
