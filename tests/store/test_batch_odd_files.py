"""Odd files through batch jobs, on both backends: unusual encodings, separators and
characters, huge fields, deep nesting, empty bodies and cells a spreadsheet would run."""

from __future__ import annotations

import codecs
import csv
import gzip
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


NAMES = ["Zoë", "日本", "\u0a0a\u010a"]  # the last holds the byte "\n" in UTF-16 and UTF-32


@pytest.mark.parametrize(
    ("encoding", "mark"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
    ],
)
def test_a_file_with_a_byte_order_mark_is_decoded_as_it_says(
    store: Store, tmp_path: Path, encoding: str, mark: bytes
) -> None:
    text = "id,name,city\r\n" + "".join(f'{i},"{n}\n{n}",x\r\n' for i, n in enumerate(NAMES))
    source = tmp_path / "people.csv.gz"
    source.write_bytes(gzip.compress(mark + text.encode(encoding)))
    job = Upcase.create()
    assert job.upload(source) == 3
    start(store)
    process(store)
    names = [record["name"] for record in job.output()]
    assert names == [f"{n}\n{n}".upper() for n in NAMES]


def test_bytes_that_do_not_decode_as_utf_16_name_the_line(store: Store, tmp_path: Path) -> None:
    good = "".join(f"{i},n,c\n" for i in range(40_000))  # chunks were committed before
    source = tmp_path / "bad.csv"
    data = (
        ("id,name,city\n" + good + "x,").encode("utf-16")
        + b"\x00\xdc"
        + "y,z\n".encode("utf-16-le")
    )
    source.write_bytes(data)
    job = Upcase.create()
    with pytest.raises(
        rj.UploadError, match=r"bad\.csv, line 40002: cannot be decoded as utf-16-le: illegal"
    ):
        job.upload(source)
    assert store.slice_counts(job.id) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_csv_fields_may_be_separated_by_another_delimiter(
    store: Store, tmp_path: Path, delimiter: str
) -> None:
    source = tmp_path / "people.csv"
    with source.open("w", newline="") as out:
        csv.writer(out, delimiter=delimiter).writerows(
            [["id", "name", "city"], ["1", f"a{delimiter}b, c", "x"], ["2", "bob", "y"]]
        )
    refused = Upcase.create()
    with pytest.raises(rj.UploadError) as error:
        refused.upload(source)
    assert str(error.value) == (
        f"{source}, line 1: the header is one column holding {delimiter!r}: if the file is "
        f"separated by {delimiter!r}, name its delimiter (upload(delimiter={delimiter!r}), "
        f"or --delimiter {delimiter!r} on the command line)"
    )
    assert store.get_batch(refused.id) is None  # type: ignore[arg-type]
    assert refused.reload().state is rj.State.FAILED
    job = Upcase.create()
    assert job.upload(source, delimiter=delimiter) == 2
    start(store)
    process(store)
    assert list(job.output()) == [
        {"id": "1", "name": f"A{delimiter}B, C", "city": "x"},
        {"id": "2", "name": "BOB", "city": "y"},
    ]


def test_a_one_column_csv_is_loaded_once_its_delimiter_is_named(
    store: Store, tmp_path: Path
) -> None:
    source = tmp_path / "one.csv"
    source.write_text('"name;alias"\nada;countess\n')
    job = Echo.create()
    with pytest.raises(rj.UploadError, match="a delimiter separates CSV fields; it reads jsonl"):
        job.upload(source, delimiter=",")
    with pytest.raises(rj.UploadError, match="a CSV delimiter is one character"):
        Upcase.create().upload(source, delimiter=";;")
    one = Upcase.create()
    with pytest.raises(rj.UploadError, match="one column holding ';'"):
        one.upload(source)
    assert one.upload(source, delimiter=",") == 1


FORMULAS = 'id,name,city\n1,=HYPERLINK("http://evil"),-12.5\n2,@SUM(A1),"\tx"\n3,+1+1,-\n'


def test_formulas_are_escaped_in_downloads_only_when_asked(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "formulas.csv"
    source.write_text(FORMULAS)
    job = Upcase.create()
    job.upload(source)
    start(store)
    process(store)
    job.download(tmp_path / "exact.csv")
    with (tmp_path / "exact.csv").open(newline="") as exact:
        assert [row[1] for row in csv.reader(exact)] == [
            "name",
            '=HYPERLINK("HTTP://EVIL")',
            "@SUM(A1)",
            "+1+1",
        ]
    assert job.download(tmp_path / "safe.csv.gz", escape_formulas=True) == 3
    with gzip.open(tmp_path / "safe.csv.gz", "rt", newline="") as safe:
        assert list(csv.reader(safe)) == [
            ["id", "name", "city"],
            ["1", '\'=HYPERLINK("HTTP://EVIL")', "-12.5"],
            ["2", "'@SUM(A1)", "'\tx"],
            ["3", "'+1+1", "'-"],
        ]
    assert next(iter(job.output()))["name"] == '=HYPERLINK("HTTP://EVIL")'


def test_failed_records_escape_formulas_when_asked(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "nameless.csv"
    source.write_text("=id,city\n1,=cmd\n")  # no name: Upcase raises KeyError
    job = Upcase.create()
    job.upload(source)
    start(store)
    process(store)
    assert job.reload().state is rj.State.FAILED
    assert list(job.failed_records_csv())[1:] == ["1,KeyError,'name',1,=cmd\r\n"]
    job.download_failed(tmp_path / "failed.csv", escape_formulas=True)
    assert (tmp_path / "failed.csv").read_text().splitlines() == [
        "record_number,exception_class,exception_message,'=id,city",
        "1,KeyError,'name',1,'=cmd",
    ]
