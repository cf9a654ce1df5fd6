"""Record formats, slice payloads and compressed files: pure, no database."""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rocketjob as rj
from rocketjob.batch.files import open_source, open_target
from rocketjob.batch.formats import BadOutput, encode_output, parse_output, reader_for
from rocketjob.batch.formulas import escaped_cell, escaped_csv
from rocketjob.batch.slices import decode_output, decode_records, encode_records
from rocketjob.batch.slices import encode_output as compress


def chunks(
    text: bytes, fmt: str | None, size: int = 2, name: str = "in.csv", encoding: str | None = None
) -> list[Any]:
    reader = reader_for(io.BytesIO(text), name, fmt, encoding)
    return [reader.header, *reader.chunks(size)]


def test_csv_records_are_rows_under_one_header_and_blank_lines_are_skipped() -> None:
    text = b'\xef\xbb\xbfid,name\r\n1,"Ada, Countess"\r\n\r\n2,"two\nlines"\n3,x\n'
    assert chunks(text, "csv") == [
        ["id", "name"],
        [["1", "Ada, Countess"], ["2", "two\nlines"]],
        [["3", "x"]],
    ]


def test_a_ragged_csv_row_names_the_file_and_line() -> None:
    with pytest.raises(rj.UploadError, match=r"^in\.csv, line 4: 3 fields where the header has 2$"):
        chunks(b"id,name\n1,a\n2,b\n3,c,extra\n", "csv")


def test_bad_csv_quoting_names_the_line() -> None:
    with pytest.raises(rj.UploadError, match=r"in\.csv, line 3: not valid CSV"):
        chunks(b'id,name\n1,a\n2,"b"c\n', "csv")


def test_a_duplicated_header_column_is_refused() -> None:
    with pytest.raises(rj.UploadError, match="line 1: the header names column 'id' twice"):
        chunks(b"id,id\n1,2\n", "csv")


def test_bytes_that_do_not_decode_name_the_line() -> None:
    with pytest.raises(rj.UploadError, match=r"in\.csv, line 3: cannot be decoded as utf-8"):
        chunks(b"id,name\n1,a\n2,\xff\xfe\n", "csv")


@pytest.mark.parametrize(
    ("encoding", "plain", "bad"),
    [("utf-16", "utf-16-le", b"\x00\xdc"), ("utf-32-be", "utf-32-be", b"\xff" * 4)],
)
def test_utf_16_and_32_lines_are_counted_across_reads(
    encoding: str, plain: str, bad: bytes
) -> None:
    lines = [f"{i},\u0a0a\n" for i in range(150_000)]  # several reads of a MiB
    data = "".join(["id,name\n", *lines]).encode(encoding)
    if encoding == "utf-32-be":
        data = codecs.BOM_UTF32_BE + data
    assert sum(map(len, chunks(data, "csv", size=100_000)[1:])) == 150_000
    cut = data.index("\n119999,".encode(plain)) + len("\n".encode(plain))
    with pytest.raises(rj.UploadError, match=f"line 120001: cannot be decoded as {plain}"):
        chunks(data[:cut] + bad + data[cut:], "csv")
    with pytest.raises(rj.UploadError, match=r"line 150002: cannot be decoded .*truncated data"):
        chunks(data + b"x", "csv")


def test_a_given_encoding_wins_over_a_byte_order_mark_and_an_unknown_one_is_named() -> None:
    assert chunks("id\nZoë\n".encode("utf-16-be"), "csv", encoding="utf-16-be") == [
        ["id"],
        [["Zoë"]],
    ]
    latin = "ÿþid\r\ncafé\r\n".encode("cp1252")  # ÿþ: the bytes of the UTF-16 LE mark
    assert chunks(latin, "csv", encoding="cp1252") == [["ÿþid"], [["café"]]]
    with pytest.raises(rj.UploadError, match=r"^in\.csv: unknown text encoding 'klingon'$"):
        chunks(b"id\n", "csv", encoding="klingon")


def test_json_lines_skip_blank_lines_and_bad_json_names_the_line() -> None:
    assert chunks(b'1\n\n{"a": [2]}\n"x"\n', "jsonl", 5) == [None, [1, {"a": [2]}, "x"]]
    with pytest.raises(rj.UploadError, match=r"line 2: not valid JSON"):
        chunks(b"1\n{oops\n", "jsonl", name="n.jsonl")


@pytest.mark.parametrize("depth", [600, 100_000])
def test_json_nested_too_deeply_names_the_line_instead_of_a_recursion_error(depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    with pytest.raises(rj.UploadError, match=r"^n\.jsonl, line 2: JSON nested too deeply"):
        chunks(b"1\n" + deep + b"\n", "jsonl", name="n.jsonl")
    nested = b"[" * 400 + b'"[[[[{{{{"' + b"]" * 400
    assert chunks(nested + b"\n", "jsonl") == [None, [json.loads(nested)]]


def test_csv_lines_ending_in_a_carriage_return_alone_are_named() -> None:
    with pytest.raises(rj.UploadError) as refused:
        chunks(b"id,name\r1,a\r2,b\r", "csv")
    assert str(refused.value) == (
        "in.csv, line 1: not valid CSV: a carriage return outside quotes "
        "(lines end at \\n or \\r\\n, not at \\r alone)"
    )


def test_raw_lines_keep_blank_lines_and_drop_line_ends() -> None:
    assert chunks(b"a\r\n\nb", None, 5) == [None, ["a", "", "b"]]


def test_a_text_stream_is_read_as_lines_too() -> None:
    reader = reader_for(io.StringIO("id\n1\n2\n"), "s", "csv", "utf-8")
    assert [reader.header, *reader.chunks(10)] == [["id"], [["1"], ["2"]]]


def test_slice_payloads_round_trip_and_output_appends() -> None:
    records = [["1", "Zoë"], {"a": None}, "x"]
    assert decode_records(encode_records(records)) == records
    first = compress("a\n")
    assert decode_output(compress("b\n", first)) == b"a\nb\n"
    assert decode_output(None) == b""


def test_csv_output_follows_the_header_and_skips_none() -> None:
    text, count = encode_output("csv", [{"b": 2, "a": 1}, None, {"a": "x,y", "b": ""}], ["a", "b"])
    assert (text, count) == ('1,2\r\n"x,y",\r\n', 2)
    assert list(parse_output("csv", text, ["a", "b"])) == [
        {"a": "1", "b": "2"},
        {"a": "x,y", "b": ""},
    ]


def test_a_csv_output_record_with_a_field_outside_the_header_is_named() -> None:
    with pytest.raises(BadOutput, match=r"fields \['c'\] are not in the CSV header") as bad:
        encode_output("csv", [{"a": 1}, None, {"a": 1, "c": 3}], ["a"])
    assert bad.value.index == 2


def test_a_jsonl_output_record_that_is_not_json_is_named() -> None:
    with pytest.raises(BadOutput) as bad:
        encode_output("jsonl", [1, {"x": {1, 2}}], None)
    assert bad.value.index == 1
    assert encode_output("jsonl", [1, None, {"é": [True]}], None) == ('1\n{"é":[true]}\n', 2)
    assert encode_output("lines", ["a", 2], None) == ("a\n2\n", 2)


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2", ".zip"])
def test_files_are_compressed_and_read_back_by_their_name(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"data.csv{suffix}"
    with open_target(path) as out:
        out.write(b"id\n1\n")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left
    with open_source(path) as source:
        assert source.stream.read() == b"id\n1\n"
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(suffix)
    if opener is not None:
        assert opener(path).read() == b"id\n1\n"
    if suffix == ".zip":
        assert zipfile.ZipFile(path).namelist() == ["data.csv"]


def test_a_zip_must_hold_one_file_and_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "id\n")
        archive.writestr("b.csv", "id\n")
    with (
        pytest.raises(rj.UploadError, match="must hold exactly one file, not 2"),
        open_source(path),
    ):
        pass
    with (
        pytest.raises(rj.UploadError, match=r"nope\.csv: cannot read it"),
        open_source(tmp_path / "nope.csv"),
    ):
        pass


def zip_with(path: Path, flags: int = 0, method: int | None = None) -> Path:
    """A zip of one CSV whose headers say it is encrypted (flags 1) or packed by `method`."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "id\n1\n")
    data = bytearray(path.read_bytes())
    for signature, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        header = data.index(signature) + at
        data[header] |= flags
        if method is not None:
            data[header + 2 : header + 4] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("flags", "method", "problem"),
    [(1, None, r"it is encrypted \(password protected\)$"), (0, 99, "method is not supported")],
)
def test_a_zip_member_that_cannot_be_opened_is_named(
    tmp_path: Path, flags: int, method: int | None, problem: str
) -> None:
    path = zip_with(tmp_path / "in.zip", flags, method)
    with (
        pytest.raises(rj.UploadError, match=rf"in\.zip:a\.csv: cannot be read: .*{problem}"),
        open_source(path),
    ):
        pass


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.csv.gz"

    def interrupted() -> None:
        with open_target(path) as out:
            out.write(b"partial")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        interrupted()
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_written_is_named_by_its_own_name(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "out.csv"
    with pytest.raises(FileNotFoundError) as refused, open_target(path):
        pass
    assert refused.value.filename == str(path)


def test_batch_job_classes_declare_known_formats() -> None:
    with pytest.raises(TypeError, match="input_format must be one of"):
        type("Bad", (rj.BatchJob,), {"input_format": "xml"})
    with pytest.raises(TypeError, match="slice_size must be a positive int"):
        type("Bad", (rj.BatchJob,), {"slice_size": 0})


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "a": st.text(),
                "b": st.text(alphabet=st.sampled_from('ab ,"\r\n\t é')),
                "c": st.text(),
            }
        ),
        max_size=20,
    )
)
def test_csv_output_is_what_the_csv_writer_writes(records: list[dict[str, str]]) -> None:
    written = io.StringIO()
    writer = csv.writer(written)
    writer.writerows([r["a"], r["b"], r["c"]] for r in records)
    assert encode_output("csv", records, ["a", "b", "c"]) == (written.getvalue(), len(records))


def written(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def test_cells_a_spreadsheet_would_run_get_a_leading_quote() -> None:
    rows = [
        ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=x", "\r=x"],
        ["a=b", "-12.5", "+33", "1e-5", "", "x, =y"],
    ]
    assert list(csv.reader(io.StringIO(escaped_csv(written(rows)), newline=""))) == [
        ["'=1+2", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\t=x", "'\r=x"],
        ["a=b", "-12.5", "+33", "1e-5", "", "x, =y"],
    ]
    assert escaped_csv("a,b\r\n") == "a,b\r\n"


@given(st.lists(st.lists(st.text(alphabet=st.sampled_from('=+-@\t\r\n,"a1.e '), max_size=6))))
def test_formula_escaping_misses_no_cell_and_changes_no_other(rows: list[list[str]]) -> None:
    escaped = list(csv.reader(io.StringIO(escaped_csv(written(rows)), newline="")))
    assert escaped == [[escaped_cell(cell) for cell in row] for row in rows]
    for cell in (cell for row in escaped for cell in row):
        assert not cell.startswith(("=", "@", "\t", "\r"))
