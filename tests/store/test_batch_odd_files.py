"""Odd files through batch jobs, on both backends: unusual encodings, separators and
characters, huge fields, deep nesting, empty bodies and cells a spreadsheet would run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from batch_jobs import Echo, Upcase
from batching import process, start

import rocketjob as rj
from rocketjob.store import Store


def test_json_lines_keep_unicode_line_separators_inside_strings(
    store: Store, tmp_path: Path
) -> None:
    records = [{"text": "a\u2028b"}, {"text": "c\u2029d"}, {"text": "e\x85f"}, "\x0cg\x1c"]
    source = tmp_path / "odd.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    job = Echo.create()
    assert job.upload(source) == 4
    start(store)
    process(store)
    assert list(job.output()) == records
    job.download(tmp_path / "out.jsonl")
    lines = (tmp_path / "out.jsonl").read_bytes().split(b"\n")
    assert [json.loads(line) for line in lines[:-1]] == records


def test_csv_fields_over_128_kib_are_uploaded_processed_and_read_back(
    store: Store, tmp_path: Path
) -> None:
    name = "ada " * 100_000  # 400 KB, over the csv module's default limit of 128 KiB
    source = tmp_path / "wide.csv"
    source.write_text(f'id,name,city\n1,"{name}",x\n2,bob,"y\n{name}"\n')
    job = Upcase.create()
    assert job.upload(source) == 2
    start(store)
    process(store)
    assert list(job.output()) == [
        {"id": "1", "name": name.upper(), "city": "x"},
        {"id": "2", "name": "BOB", "city": f"y\n{name}"},
    ]
    assert job.download(tmp_path / "out.csv") == 2
    with (tmp_path / "out.csv").open(newline="") as out:
        assert list(csv.reader(out))[1] == ["1", name.upper(), "x"]


def test_records_nested_too_deeply_to_store_are_named(store: Store) -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    job = Echo.create()
    with pytest.raises(rj.UploadError, match=r"^records, record 2: cannot be stored: nested too"):
        job.upload([1, deep])
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]


def test_a_header_only_csv_downloads_its_header(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "empty.csv"
    source.write_text("id,name,city\n")
    job = Upcase.create()
    assert job.upload(source) == 0
    start(store)
    assert job.reload().state is rj.State.COMPLETED
    assert job.download(tmp_path / "out.csv") == 0
    assert (tmp_path / "out.csv").read_text() == "id,name,city\n"
    assert b"".join(job.output_bytes()) == b"id,name,city\r\n"
    assert list(job.output()) == []
