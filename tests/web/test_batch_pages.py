"""A batch job's page: records, the slice bar, failures by exception, a failed record,
per-slice Retry, and the downloads; running batch rows in the lists."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from batch_jobs import Shout, Squares, Upcase
from batching import people_csv, process, start
from starlette.testclient import TestClient
from webpages import post_form, text_of

import rocketjob as rj
from rocketjob.batch.processing import claim_slices
from rocketjob.store import Store


def failing(tmp_path: Path) -> rj.BatchJob:
    broken = tmp_path / "broken"
    broken.touch()
    job = Squares.create(broken=str(broken), fail_every=130)
    job.upload(range(1, 1_001))  # 20 slices; 7 fail
    return job


def test_a_failed_batch_shows_its_slices_and_failures_by_exception(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    job = failing(tmp_path)
    start(store)
    process(store)
    html = client.get(f"/jobs/{job.id}").text
    text = text_of(html)
    assert "1,000 records in 20 slices of 50" in text
    assert 'aria-label="Slices: 13 done, 0 running, 7 failed, 0 queued"' in html
    assert "Done 13 Running 0 Failed 7 Queued 0" in text
    assert "Failures by exception" in text
    assert "ValueError 7 slice 3" in text
    assert "3 130 ValueError: cannot square 130 host:1 Retry" in text
    assert "Download failed records (CSV)" in text
    assert "Download output" not in text  # it has not completed
    assert "rocketjob.SlicesFailed: 7 slices failed" in text


def test_a_failed_record_shows_its_value_exception_and_backtrace(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    job = failing(tmp_path)
    start(store)
    process(store)
    html = client.get(f"/jobs/{job.id}/slices/6").text
    text = text_of(html)
    assert "Record 260" in text
    assert '<code class="failed-record">260</code>' in html
    assert "ValueError: cannot square 260" in text
    assert "Traceback (most recent call last):" in html and "batch_jobs.py" in html
    assert client.get(f"/jobs/{job.id}/slices/4").status_code == 404  # it did not fail


def test_retry_one_slice_from_its_form(store: Store, client: TestClient, tmp_path: Path) -> None:
    job = failing(tmp_path)
    start(store)
    process(store)
    (tmp_path / "broken").unlink()
    status, asked = post_form(client, f"/jobs/{job.id}/slices/6/retry", confirmed=False)
    assert status == 200 and f"Retry slice 6 of job #{job.id}" in text_of(asked)
    status, location = post_form(client, f"/jobs/{job.id}/slices/6/retry")
    assert (status, location) == (303, f"/jobs/{job.id}")
    page = client.get(location).text
    assert f"Retried slice 6 of job #{job.id}: it is queued." in text_of(page)
    assert job.reload().state is rj.State.RUNNING
    process(store)
    assert [s.position for s in job.failed_slices()] == [3, 8, 11, 13, 16, 19]
    status, location = post_form(client, f"/jobs/{job.id}/slices/6/retry")
    assert "has not failed" in text_of(client.get(location).text)


def test_the_output_and_the_failed_records_download_as_files(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    job = Upcase.create()
    job.upload(people_csv(tmp_path / "people.csv", 250))
    refused = client.get(f"/jobs/{job.id}/output")
    assert refused.status_code == 409
    assert "its output can be downloaded once it has completed" in refused.text
    start(store)
    process(store)
    assert "Download output" in text_of(client.get(f"/jobs/{job.id}").text)
    got = client.get(f"/jobs/{job.id}/output")
    assert got.status_code == 200
    assert got.headers["content-disposition"] == f'attachment; filename="Upcase-{job.id}.csv"'
    rows = list(csv.reader(io.StringIO(got.text)))
    assert rows[0] == ["id", "name", "city"] and rows[1] == ["0", "NAME 0", "Springfield"]
    assert len(rows) == 251

    failed = failing(tmp_path)
    start(store)
    process(store)
    got = client.get(f"/jobs/{failed.id}/failed-records.csv")
    assert got.headers["content-type"].startswith("text/csv")
    lines = got.text.splitlines()
    assert lines[0] == "record_number,exception_class,exception_message,record"
    assert lines[1:3] == [
        "130,ValueError,cannot square 130,130",
        "260,ValueError,cannot square 260,260",
    ]
    assert len(lines) == 8


def test_running_batch_rows_show_progress_and_their_workers(
    store: Store, client: TestClient
) -> None:
    job = Shout.create()
    job.upload([f"line {i}" for i in range(100)])
    start(store)
    process(store, limit=4)
    claim_slices(store, "host:8", 1)
    claim_slices(store, "host:9", 1)
    html = client.get("/jobs?state=running").text
    assert f'aria-label="Job #{job.id}: 40% complete"' in html
    assert "2 workers" in text_of(html)
    page = text_of(client.get(f"/jobs/{job.id}").text)
    assert "40 records done (40%)" in page and "records/s" in page and "2 workers on it" in page
    live = client.get(f"/jobs/{job.id}?fragment=1").text
    assert 'id="job-batch"' in live


def test_a_plain_job_has_no_batch_section_and_no_downloads(
    store: Store, client: TestClient
) -> None:
    from sample_jobs import Kept

    job = Kept.create()
    assert 'id="job-batch"' not in client.get(f"/jobs/{job.id}").text
    assert client.get(f"/jobs/{job.id}/output").status_code == 404


def test_the_api_shows_a_batch_jobs_records_and_failures(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    job = failing(tmp_path)
    start(store)
    process(store)
    batch = client.get(f"/api/jobs/{job.id}").json()["batch"]
    assert batch["record_count"] == 1_000 and batch["slice_size"] == 50
    assert batch["slices"] == {"queued": 0, "running": 0, "failed": 7, "completed": 13}
    assert batch["records_done"] == 650
    assert batch["failures_by_exception"] == [
        {"class_name": "ValueError", "slices": 7, "first_position": 3}
    ]
    from sample_jobs import Kept

    assert client.get(f"/api/jobs/{Kept.create().id}").json()["batch"] is None
