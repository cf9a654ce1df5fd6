"""`rocketjob jobs …` as a real process on both backends: what it prints, what it changes,
and one line on stderr with a non-zero exit code when it cannot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from failing import failed_by_worker
from processes import rocketjob
from sample_jobs import Noop, Slow

import rocketjob as rj
from rocketjob.cli import EXIT_ERROR
from rocketjob.store import Store


def run(store: Store, *args: str) -> tuple[int, str, str]:
    result = rocketjob("jobs", *args, database_url=store.url)
    return result.returncode, result.stdout, result.stderr


def test_list_shows_the_newest_jobs_with_filters(store: Store) -> None:
    assert run(store, "list")[1].strip() == "no jobs yet"
    failed_by_worker("card declined", description="charge card [red]")
    queued = Noop.create(description="hello", priority=7)
    code, out, err = run(store, "list")
    assert (code, err) == (0, "")
    header, first, second = (line for line in out.splitlines() if "│" in line or "┃" in line)
    assert [cell.strip() for cell in header.split("┃")[1:-1]] == [
        "id", "class", "state", "description", "duration", "priority", "progress",
    ]  # fmt: skip
    assert [cell.strip() for cell in first.split("│")[1:4]] == [
        str(queued.id),
        "sample_jobs.Noop",
        "queued",
    ]
    assert "charge card [red]" in second and "sample_jobs.Fails" in second  # not markup
    failed_only = run(store, "list", "--state", "failed")[1]
    assert "sample_jobs.Fails" in failed_only and "sample_jobs.Noop" not in failed_only
    assert "sample_jobs.Fails" not in run(store, "list", "--class", "sample_jobs.Noop")[1]
    assert "hello" not in run(store, "list", "-q", "charge")[1]
    assert "… and more" in run(store, "list", "--limit", "1")[1]


def test_show_prints_every_field_the_exception_and_the_history(store: Store) -> None:
    job = failed_by_worker("card declined", description="charge card")
    code, out, _ = run(store, "show", "--import", "sample_jobs", str(job.id))
    assert code == 0
    assert f"sample_jobs.Fails #{job.id}  failed, ran" in out
    for text in ("charge card", "retry, abort, destroy", "message", "card declined"):
        assert text in out
    assert "Exception ValueError: card declined" in out
    assert "Traceback (most recent call last):" in out
    assert "raise ValueError(self.message)" in out
    assert "queued → running" in out and "running → failed" in out and "host:1" in out


def test_an_unknown_id_is_one_line_and_a_non_zero_exit(store: Store) -> None:
    for command in ("show", "retry"):
        code, out, err = run(store, command, "999")
        assert (code, out, err) == (EXIT_ERROR, "", "rocketjob: error: no job with id 999\n")


def test_each_action_changes_the_job_and_says_so(store: Store) -> None:
    failed = failed_by_worker("boom")
    code, out, _ = run(store, "retry", str(failed.id))
    assert (code, out) == (0, f"retried job {failed.id} (sample_jobs.Fails): it is queued\n")
    assert failed.reload().history()[-1].by.startswith("user:")

    job = Noop.create(run_at=datetime.now(UTC) + timedelta(hours=1))
    assert run(store, "run-now", str(job.id))[1].endswith("it is queued\n")
    assert run(store, "pause", str(job.id))[1].endswith("it is paused\n")
    assert run(store, "resume", str(job.id))[1].endswith("it is queued\n")
    run(store, "fail", str(job.id), "--reason", "not needed")
    assert job.reload().exception is not None
    assert job.exception.message == "not needed"  # type: ignore[union-attr]
    assert run(store, "abort", str(job.id))[1].endswith("it is aborted\n")
    code, out, _ = run(store, "destroy", str(job.id))
    assert (code, out) == (0, f"destroyed job {job.id} (sample_jobs.Noop)\n")
    assert rj.Job.counts()["all"] == 1


def test_a_refused_action_prints_why(store: Store) -> None:
    job = Noop.create()
    code, out, err = run(store, "retry", str(job.id))
    assert (code, out, err) == (EXIT_ERROR, "", "rocketjob: error: cannot retry a queued job\n")
    running = Slow.create()
    store.claim_job(running.id, "host:1")  # type: ignore[arg-type]
    _, _, err = run(store, "pause", str(running.id))
    assert err == ("rocketjob: error: cannot pause a running job of a class that is not pausable\n")
    code, out, _ = run(store, "pause", "--import", "sample_jobs", str(running.id))
    assert (code, out) == (0, f"paused job {running.id} (sample_jobs.Slow): it is paused\n")


def test_retry_failed_and_abort_failed_in_bulk(store: Store) -> None:
    boom = [failed_by_worker("boom").id for _ in range(2)]
    other = Noop.create(description="other").fail("x")
    code, out, _ = run(
        store, "retry-failed", "--class", "sample_jobs.Fails", "--exception", "ValueError"
    )
    assert (code, out) == (
        0,
        "retried 2 failed jobs of sample_jobs.Fails that raised ValueError\n",
    )
    assert {rj.Job.find(i).state for i in boom} == {rj.State.QUEUED}
    assert run(store, "abort-failed", "-q", "other")[1] == (
        "aborted 1 failed job matching “other”\n"
    )
    assert other.reload().state is rj.State.ABORTED
    code, _, err = run(store, "retry-failed", "-q", "x", "--class", "y")
    assert code == 2 and "not both" in err


def test_counts_and_failures(store: Store) -> None:
    failed_by_worker("card declined")
    Noop.create()
    out = run(store, "counts")[1]
    rows = [[cell.strip() for cell in line.split("│")[1:3]] for line in out.splitlines()]
    shown = dict(row for row in rows if len(row) == 2)
    assert shown == {
        "running": "0", "scheduled": "0", "queued": "1", "paused": "0", "failed": "1",
        "aborted": "0", "completed": "0", "all": "2",
    }  # fmt: skip
    assert run(store, "failures")[1].count("sample_jobs.Fails │ ValueError │ 1") == 1


def test_show_prints_what_a_job_waits_on_and_what_waits_on_it(store: Store) -> None:
    first = Noop.create()
    first.fail("down")
    then = Noop.create(depends_on=[first])
    code, out, _ = run(store, "show", str(then.id))
    assert code == 0 and f"#{first.id} (failed) — 1 not completed" in out
    code, out, _ = run(store, "show", str(first.id))
    assert code == 0 and re.search(f"waited on by +│ #{then.id} \\(queued\\)", out)
