"""Uploads into slices and downloads of the output, on both backends."""

from __future__ import annotations

import bz2
import gzip
import io
import re
import zipfile
from pathlib import Path

import pytest
from batch_jobs import Hooks, Shout, Silent, Squares, Upcase
from batching import people_csv, process, start, sweep

import rocketjob as rj
from rocketjob.store import SliceClaim, Store


def test_a_csv_is_uploaded_into_slices_and_downloaded_in_input_order(
    store: Store, tmp_path: Path
) -> None:
    job = Upcase.create()
    assert job.upload(people_csv(tmp_path / "people.csv", 1234)) == 1234
    status = job.batch_status()
    assert (status.record_count, status.slices["queued"], status.slice_size) == (1234, 13, 100)
    start(store)
    process(store)
    done = job.reload()
    assert (done.state, done.percent_complete, done.sub_state) == (rj.State.COMPLETED, 100, None)
    assert job.download(tmp_path / "out.csv") == 1234
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[:3] == ["id,name,city", "0,NAME 0,Springfield", "1,NAME 1,Springfield"]
    assert lines[1:] == [f"{i},NAME {i},Springfield" for i in range(1234)]
    assert next(iter(job.output())) == {"id": "0", "name": "NAME 0", "city": "Springfield"}
    assert [e.action for e in job.history()] == ["start", "complete"]


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zip"])
def test_compressed_files_are_read_and_written_by_their_name(
    store: Store, tmp_path: Path, suffix: str
) -> None:
    plain = people_csv(tmp_path / "people.csv", 300)
    packed = tmp_path / f"people.csv{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(plain, "people.csv")
    else:
        opener = gzip.open if suffix == ".gz" else bz2.open
        with opener(packed, "wb") as out:
            out.write(plain.read_bytes())
    job = Upcase.create()
    assert job.upload(packed) == 300
    start(store)
    process(store)
    out = tmp_path / f"out.csv{suffix}"
    assert job.download(out) == 300
    if suffix == ".zip":
        text = zipfile.ZipFile(out).read("out.csv")
    else:
        text = (gzip.open if suffix == ".gz" else bz2.open)(out).read()
    assert text.decode().splitlines()[:2] == ["id,name,city", "0,NAME 0,Springfield"]
    assert len(text.decode().splitlines()) == 301


def test_file_objects_and_iterables_are_uploaded_too(store: Store, tmp_path: Path) -> None:
    by_file = Squares.create()
    assert by_file.upload(io.BytesIO(b"1\n2\n\n3\n")) == 3
    by_records = Squares.create()
    assert by_records.upload(iter(range(4, 7))) == 3
    lines = Shout.create()
    assert lines.upload(io.StringIO("a\n\nb\n")) == 3
    for _ in range(3):
        start(store)
    process(store)
    out = io.StringIO()
    assert by_records.download(out) == 3
    assert out.getvalue() == ('{"n":4,"square":16}\n{"n":5,"square":25}\n{"n":6,"square":36}\n')
    assert list(by_file.output()) == [{"n": n, "square": n * n} for n in (1, 2, 3)]
    assert list(lines.output()) == ["A", "B"]  # perform() returned None for the blank line


def test_csv_records_may_be_given_as_dicts(store: Store, tmp_path: Path) -> None:
    job = Upcase.create()
    assert job.upload([{"id": "1", "name": "ada"}, {"name": "bob", "id": "2"}]) == 2
    start(store)
    process(store)
    assert list(job.output()) == [{"id": "1", "name": "ADA"}, {"id": "2", "name": "BOB"}]
    with pytest.raises(rj.UploadError, match="records, record 2: a CSV record is a dict, not int"):
        Upcase.create().upload([{"id": 1}, 5])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,name,city\n1,a,b\n2,b\n", r"bad\.csv, line 40002: 2 fields where the header has 3"),
        (b"id,name,city\n1,a,b\n2,\xe9,c\n", r"bad\.csv, line 40002: cannot be decoded as utf-8"),
    ],
)
def test_a_bad_upload_names_file_and_line_and_leaves_no_slice(
    store: Store, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    # enough good rows before the bad one that several chunks were committed already
    good = b"".join(b"%d,n,c\n" % i for i in range(40_000))
    path.write_bytes(content.replace(b"1,a,b\n", good))
    job = Upcase.create()
    with pytest.raises(rj.UploadError, match=message):
        job.upload(path)
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    assert store.get_batch(job.id) is None  # type: ignore[arg-type]
    failed = job.reload()  # not left waiting for good: the operator sees why
    assert failed.state is rj.State.FAILED
    assert failed.exception is not None
    assert re.search(f"upload failed: .*{message}", failed.exception.message)
    assert job.upload(people_csv(tmp_path / "good.csv", 5)) == 5  # a new upload may follow
    job.retry()
    start(store)
    process(store)
    assert job.reload().state is rj.State.COMPLETED


def test_an_unreadable_or_corrupt_file_is_named(store: Store, tmp_path: Path) -> None:
    job = Upcase.create()
    with pytest.raises(rj.UploadError, match=r"missing\.csv: cannot read it"):
        job.upload(tmp_path / "missing.csv")
    corrupt = tmp_path / "people.csv.gz"
    corrupt.write_bytes(gzip.compress(b"id,name\n" * 1000)[:-30] + b"garbage-garbage-garbage-xx")
    with pytest.raises(rj.UploadError, match=r"people\.csv\.gz, line \d+: cannot be read further"):
        job.upload(corrupt)
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]


def test_one_upload_per_job(store: Store, tmp_path: Path) -> None:
    job = Silent.create()
    assert job.upload(["a", "b"]) == 2
    with pytest.raises(rj.RocketJobError, match="already has an upload"):
        job.upload(["c"])
    job.abort()
    with pytest.raises(rj.RocketJobError, match="cannot upload into a aborted job"):
        job.upload(["c"])


def test_a_batch_is_never_opened_for_a_job_that_is_gone(store: Store) -> None:
    job = Silent.create()
    job_id: int = job.id  # type: ignore[assignment]
    job.destroy()
    assert store.start_upload(job_id, 10, None, None) is False
    assert store.get_batch(job_id) is None
    with pytest.raises(rj.JobNotFound):
        job.upload(["a"])


def test_download_is_refused_until_the_job_completed(store: Store, tmp_path: Path) -> None:
    job = Shout.create()
    job.upload(["a"] * 25)
    with pytest.raises(rj.OutputNotReady, match=f"job {job.id} is queued: its output"):
        job.download(tmp_path / "out.txt")
    start(store)
    with pytest.raises(rj.OutputNotReady, match=r"is running \(processing\)"):
        job.download(tmp_path / "out.txt")
    assert not (tmp_path / "out.txt").exists()
    with pytest.raises(rj.OutputNotReady, match="keeps no output"):
        Silent.create().download(tmp_path / "x")


def test_no_slice_is_claimed_before_the_upload_was_read_whole(store: Store) -> None:
    job = Squares.create()
    start(store)  # before_batch ran: processing, with nothing uploaded yet
    during: list[int] = []

    def records() -> object:
        for n in range(6_000):
            if n == 5_000:  # chunks are in, but the file was not read to its end
                during.append(len(process(store)))
            yield n

    assert job.upload(records()) == 6_000
    assert during == [0]
    process(store)
    assert job.reload().state is rj.State.COMPLETED
    assert [r["n"] for r in job.output()] == list(range(6_000))


def test_a_failed_upload_ran_no_record_and_fails_the_job(store: Store, tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    job = Hooks.create(log=str(log))
    start(store)  # before_batch ran: processing, waiting for its records

    def records() -> object:
        for n in range(300):
            if n == 250:
                process(store)  # a worker looks for slices meanwhile
                raise OSError("the partner's server went away")
            yield f"line {n}"

    with pytest.raises(OSError, match="went away"):
        job.upload(records())
    failed = job.reload()
    assert failed.state is rj.State.FAILED
    assert failed.exception is not None
    assert failed.exception.message == "upload failed: the partner's server went away"
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    assert log.read_text() == "before\n"  # and no record was processed


def test_an_empty_upload_completes_the_job(store: Store) -> None:
    job = Squares.create()
    assert job.upload([]) == 0
    start(store)
    assert job.reload().state is rj.State.COMPLETED


def test_a_job_whose_last_slice_was_not_settled_is_finished_by_the_sweep(
    store: Store,
) -> None:
    job = Squares.create()
    start(store)
    job.upload(range(10))
    (row,) = store.claim_slices("host:1", 5)
    # the worker completes the last slice, then dies before it could settle the job
    assert store.complete_slice(SliceClaim(row["id"], row["lease"]), None, 0) is not None
    assert job.reload().state is rj.State.RUNNING
    assert [o.result for o in sweep(store, "host:2")] == ["completed"]
    assert job.reload().state is rj.State.COMPLETED
    assert job.history()[-1].by == "host:2"


def test_an_upload_that_replaces_a_failed_one_is_read_with_its_own_header(
    store: Store, tmp_path: Path
) -> None:
    job = Upcase.create()
    start(store)

    def records() -> object:
        for i in range(6_000):
            if i == 5_500:
                yield "not a dict"
            yield {"id": str(i), "name": f"n{i}", "city": "x"}

    with pytest.raises(rj.UploadError, match="record 5501: a CSV record is a dict, not str"):
        job.upload(records())
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("name,id\nada,1\nbob,2\n")
    assert job.upload(swapped) == 2
    job.retry()
    process(store)
    assert job.reload().state is rj.State.COMPLETED
    assert list(job.output()) == [{"name": "ADA", "id": "1"}, {"name": "BOB", "id": "2"}]
