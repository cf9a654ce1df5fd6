"""`rocketjob web` caps request bodies before reading them: a huge POST costs the server
no memory, chunked or announced, and the cap can be set on the command line."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from browsing import free_port, responds, stop
from processes import start_rocketjob, wait_until
from rawhttp import send_chunked, send_declared
from sample_jobs import Noop

import rocketjob as rj
from rocketjob.store import open_store

MiB = 1024 * 1024
CHUNK = b"a" * 65536


@dataclass(frozen=True)
class Served:
    port: int
    pid: int
    job_id: int


@contextmanager
def serving(tmp_path: Path, *options: str) -> Iterator[Served]:
    """`rocketjob web` on a fresh SQLite file holding one queued job."""
    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    store = open_store(url)
    store.migrate()
    rj.configure(store=store)
    job_id = Noop.create().id
    rj.configure(None)
    store.close()
    port = free_port()
    server = start_rocketjob(
        "web", "--port", str(port), "--import", "sample_jobs", *options, database_url=url
    )
    try:
        wait_until(
            lambda: server.poll() is not None or responds(f"http://127.0.0.1:{port}/jobs"),
            30,
            "Mission Control to answer",
        )
        assert server.poll() is None, server.output()
        assert job_id is not None
        yield Served(port, server.pid, job_id)
    finally:
        stop(server)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("web")) as server:
        yield server


def rss(pid: int) -> int:
    """The process's resident memory, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    assert match is not None, status
    return int(match.group(1)) * 1024


@pytest.mark.parametrize(
    ("path", "content_type", "answer_type"),
    [
        ("/api/jobs/{id}/fail", "application/json", "application/json"),
        ("/jobs/{id}/fail", "application/x-www-form-urlencoded", "text/html; charset=utf-8"),
    ],
)
def test_a_huge_chunked_body_is_refused_without_growing_the_server(
    served: Served, path: str, content_type: str, answer_type: str
) -> None:
    target = path.format(id=served.job_id)
    headers = {"Content-Type": content_type}
    # Once over the limit first, so the memory of the refusal itself is counted before.
    warm = send_chunked(served.port, target, total=4 * MiB, chunk=CHUNK, headers=headers)
    assert warm.status == 413
    before = rss(served.pid)
    answer = send_chunked(served.port, target, total=300 * MiB, chunk=CHUNK, headers=headers)
    grown = rss(served.pid) - before
    assert answer.status == 413
    assert answer.headers["content-type"] == answer_type
    assert "1 MiB" in answer.body.decode()
    assert answer.sent < 300 * MiB, "the server read the whole body before answering"
    assert grown < 16 * MiB, f"the server grew by {grown / MiB:.0f} MiB"
    assert rj.State.QUEUED.value in _job_state(served)


def _job_state(served: Served) -> str:
    with urllib.request.urlopen(
        f"http://127.0.0.1:{served.port}/api/jobs/{served.job_id}", timeout=5
    ) as response:
        return str(json.load(response)["state"])


def test_a_huge_content_length_is_refused_at_once(served: Served) -> None:
    for path, shape in (("/api/jobs/{id}/fail", "json"), ("/jobs/{id}/fail", "page")):
        answer = send_declared(
            served.port,
            path.format(id=served.job_id),
            length=300 * MiB,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status == 413
        assert answer.headers["connection"] == "close"
        if shape == "json":
            assert json.loads(answer.body) == {
                "detail": "the request body is over 1 MiB, the most Mission Control accepts"
            }
        else:
            assert "the request body is over 1 MiB" in answer.body.decode()


def test_the_limit_is_an_option_of_rocketjob_web(tmp_path: Path) -> None:
    with serving(tmp_path, "--max-body", "4KiB") as served:
        path = f"/api/jobs/{served.job_id}/fail"
        headers = {"Content-Type": "application/json"}
        small = json.dumps({"reason": "x" * 500}).encode()
        answer = send_chunked(served.port, path, total=len(small), chunk=small, headers=headers)
        assert answer.status == 200
        answer = send_declared(served.port, path, length=5000, headers=headers)
        assert answer.status == 413
        assert "over 4 KiB" in answer.body.decode()
