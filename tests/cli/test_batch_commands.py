"""`rocketjob batch upload` and `rocketjob batch download`, and an upload's memory."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

from batch_jobs import Upcase
from batching import people_csv, process, start
from processes import cli_env, rocketjob

import rocketjob as rj
from rocketjob.cli import EXIT_ERROR, EXIT_IMPORT
from rocketjob.store import Store


def test_upload_then_download_through_the_command_line(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    source = people_csv(tmp_path / "people.csv", 2_500)
    up = rocketjob("batch", "upload", "batch_jobs.Upcase", str(source), database_url=database_url)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == f"job 1: uploaded 2,500 records from {source}"
    assert "2,500 records" in up.stderr  # the progress bar
    early = rocketjob(
        "batch",
        "download",
        "--import",
        "batch_jobs",
        "1",
        str(tmp_path / "out.csv.gz"),
        database_url=database_url,
    )
    assert early.returncode == EXIT_ERROR
    assert early.stderr.strip() == (
        "rocketjob: error: job 1 is queued: its output can be downloaded once it has completed"
    )
    worker = rocketjob("worker", "--burst", "--import", "batch_jobs", database_url=database_url)
    assert worker.returncode == 0, worker.stderr
    down = rocketjob(
        "batch",
        "download",
        "--import",
        "batch_jobs",
        "1",
        str(tmp_path / "out.csv.gz"),
        database_url=database_url,
    )
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == f"job 1: downloaded 2,500 records to {tmp_path / 'out.csv.gz'}"
    lines = gzip.decompress((tmp_path / "out.csv.gz").read_bytes()).decode().splitlines()
    assert lines[:2] == ["id,name,city", "0,NAME 0,Springfield"] and len(lines) == 2_501


def test_a_bad_file_is_one_line_naming_file_and_line_and_leaves_no_job(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,city\n1,a,b\n2,b\n")
    result = rocketjob("batch", "upload", "batch_jobs.Upcase", str(bad), database_url=database_url)
    assert result.returncode == EXIT_ERROR
    assert result.stderr.strip().splitlines()[-1] == (
        f"rocketjob: error: {bad}, line 3: 2 fields where the header has 3"
    )
    assert rj.Job.counts()["all"] == 0


def uploaded(result: subprocess.CompletedProcess[str]) -> int:
    """The id of the job `rocketjob batch upload` says it made ("job 7: uploaded …")."""
    return int(result.stdout.split()[1].rstrip(":"))


def excel_csv(path: Path, rows: int = 40_000) -> Path:
    """A CSV as Excel saves it on Windows: cp1252, its last row far into the file."""
    body = "".join(f"{i},name {i},Springfield\r\n" for i in range(rows))
    path.write_bytes(f'id,name,city\r\n{body}{rows},Zoë,"Straße, €"\r\n'.encode("cp1252"))
    return path


def test_encoding_names_how_the_file_is_decoded(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    source = excel_csv(tmp_path / "excel.csv")
    refused = rocketjob(
        "batch", "upload", "batch_jobs.Upcase", str(source), database_url=database_url
    )
    assert refused.returncode == EXIT_ERROR
    assert refused.stderr.strip().splitlines()[-1] == (
        f"rocketjob: error: {source}, line 40002: cannot be decoded as utf-8: invalid "
        "continuation byte (name its encoding with --encoding, e.g. --encoding cp1252)"
    )
    assert "Traceback" not in refused.stderr
    assert rj.Job.counts()["all"] == 0  # nor any slice: they go with the job
    unknown = rocketjob(
        "batch",
        "upload",
        "batch_jobs.Upcase",
        str(source),
        "--encoding",
        "klingon",
        database_url=database_url,
    )
    assert unknown.returncode == 2
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("id,name,city\n".encode("utf-16") + b"\x00")
    odd = rocketjob("batch", "upload", "batch_jobs.Upcase", str(utf16), database_url=database_url)
    assert odd.stderr.strip().splitlines()[-1] == (
        f"rocketjob: error: {utf16}, line 2: cannot be decoded as utf-16-le: truncated data"
    )
    assert "Invalid value for '--encoding': unknown text encoding 'klingon'" in unknown.stderr
    up = rocketjob(
        "batch",
        "upload",
        "batch_jobs.Upcase",
        str(source),
        "--encoding",
        "cp1252",
        database_url=database_url,
    )
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip().endswith(f": uploaded 40,001 records from {source}")
    start(store)
    process(store)
    *_, last = rj.BatchJob.find(uploaded(up)).output()  # type: ignore[attr-defined]
    assert last == {"id": "40000", "name": "ZOË", "city": "Straße, €"}


def test_delimiter_names_what_separates_fields(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("id;name;city\n1;ada;Paris\n")
    refused = rocketjob(
        "batch", "upload", "batch_jobs.Upcase", str(semicolons), database_url=database_url
    )
    assert refused.returncode == EXIT_ERROR
    assert refused.stderr.strip().splitlines()[-1] == (
        f"rocketjob: error: {semicolons}, line 1: the header is one column holding ';': if the "
        "file is separated by ';', name its delimiter (upload(delimiter=';'), or --delimiter "
        "';' on the command line)"
    )
    assert rj.Job.counts()["all"] == 0
    tabs = tmp_path / "tabs.tsv"
    tabs.write_text("id\tname\tcity\n2\tbob\tRome\n")
    jobs = []
    for source, delimiter in ((semicolons, ";"), (tabs, "\\t")):
        up = rocketjob(
            "batch",
            "upload",
            "batch_jobs.Upcase",
            str(source),
            "--delimiter",
            delimiter,
            database_url=database_url,
        )
        assert up.returncode == 0, up.stderr
        jobs.append(uploaded(up))
    for _ in range(2):
        start(store)
    process(store)
    outputs = [list(rj.BatchJob.find(n).output()) for n in jobs]  # type: ignore[attr-defined]
    assert outputs == [
        [{"id": "1", "name": "ADA", "city": "Paris"}],
        [{"id": "2", "name": "BOB", "city": "Rome"}],
    ]
    bad = rocketjob(
        "batch",
        "upload",
        "batch_jobs.Upcase",
        str(tabs),
        "--delimiter",
        ";;",
        database_url=database_url,
    )
    assert bad.returncode == 2
    assert "a CSV delimiter is one character, not a quote or line end: not ';;'" in bad.stderr


def test_json_nested_too_deeply_is_one_line_and_leaves_no_job(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.jsonl"
    deep.write_text("1\n" + "[" * 100_000 + "\n")
    result = rocketjob(
        "batch", "upload", "batch_jobs.Squares", str(deep), database_url=database_url
    )
    assert result.returncode == EXIT_ERROR
    assert result.stderr.strip().splitlines()[-1] == (
        f"rocketjob: error: {deep}, line 2: JSON nested too deeply (more than 500 levels)"
    )
    assert "Traceback" not in result.stderr
    assert rj.Job.counts()["all"] == 0


def test_an_unknown_class_is_named(database_url: str, tmp_path: Path) -> None:
    source = people_csv(tmp_path / "people.csv", 1)
    result = rocketjob("batch", "upload", "batch_jobs.Nope", str(source), database_url=database_url)
    assert result.returncode == EXIT_IMPORT
    assert result.stderr.strip() == (
        "rocketjob: error: batch_jobs.Nope is not a rocketjob.BatchJob class that can be imported"
    )


def test_a_download_into_a_missing_directory_is_one_line(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    job = Upcase.create()
    job.upload(people_csv(tmp_path / "people.csv", 3))
    start(store)
    process(store)
    target = tmp_path / "missing" / "dir" / "out.csv"
    result = rocketjob(
        "batch",
        "download",
        "--import",
        "batch_jobs",
        str(job.id),
        str(target),
        database_url=database_url,
    )
    assert result.returncode == EXIT_ERROR
    assert result.stderr == (
        f"rocketjob: error: cannot write {target}: No such file or directory\n"
    )
    assert not (tmp_path / "missing").exists()


def test_download_escapes_formulas_only_when_asked(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "formulas.csv"
    source.write_text("id,name,city\n1,=cmd,-1\n")
    job = Upcase.create()
    job.upload(source)
    start(store)
    process(store)
    for flags, cell in (((), "=CMD"), (("--escape-formulas",), "'=CMD")):  # off by default
        out = tmp_path / f"out{len(flags)}.csv"
        result = rocketjob(
            "batch",
            "download",
            "--import",
            "batch_jobs",
            str(job.id),
            str(out),
            *flags,
            database_url=database_url,
        )
        assert result.returncode == 0, result.stderr
        assert out.read_text().splitlines()[1] == f"1,{cell},-1"


def upload_peak_rss_mb(database_url: str, source: Path) -> float:
    """Peak RSS of one `rocketjob batch upload` process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rocketjob", "batch", "upload", "batch_jobs.Upcase", str(source)],
        env=cli_env(database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    assert process.returncode == 0
    return usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20


def test_uploading_a_big_file_keeps_memory_flat(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    small = upload_peak_rss_mb(database_url, people_csv(tmp_path / "small.csv", 10))
    big = people_csv(tmp_path / "big.csv", 1_500_000)  # ~45 MB
    assert big.stat().st_size > 40e6
    grown = upload_peak_rss_mb(database_url, big) - small
    assert grown < 25, (
        f"uploading {big.stat().st_size / 1e6:.0f} MB grew the process {grown:.0f} MB"
    )
