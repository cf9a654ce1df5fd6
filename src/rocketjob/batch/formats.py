"""Record formats: reading uploads into records, and writing records out as text.

Input formats: None (raw lines), "csv" (dicts keyed by the header), "jsonl" (one JSON value
a line). Output formats: None (keep nothing), "csv", "jsonl", "lines". A problem in the input
names the file and the line; nothing here holds more than one slice of records.
"""

from __future__ import annotations

import csv
import io
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from operator import itemgetter
from typing import IO, Any

from rocketjob.batch.lines import Lines
from rocketjob.errors import UploadError

INPUT_FORMATS = (None, "csv", "jsonl")
OUTPUT_FORMATS = (None, "csv", "jsonl", "lines")
# A CSV field may be as long as a record may be (the csv module stops at 128 KiB): set
# once for the process, so upload, processing and output() read the same fields.
csv.field_size_limit(2**31 - 1)
# JSON deeper than this is refused: a worker decoding it must stay far from the
# recursion limit (json.loads fails near 1,000 levels, later in a deeper stack).
MAX_NESTING = 500
TOO_DEEP = f"JSON nested too deeply (more than {MAX_NESTING} levels)"
CARRIAGE_RETURN = "a carriage return outside quotes (lines end at \\n or \\r\\n, not at \\r alone)"
# Separators a one-column CSV header must not hold unless its delimiter was named.
OTHER_DELIMITERS = (";", "\t", "|")


class RecordReader(ABC):
    """Records of one input format, in chunks of a slice each."""

    header: list[str] | None = None

    @abstractmethod
    def chunks(self, size: int) -> Iterator[list[Any]]:
        """Lists of up to `size` records, in input order (as stored in slices)."""


class RawLines(RecordReader):
    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def chunks(self, size: int) -> Iterator[list[Any]]:
        source = iter(self.lines)
        while chunk := [line.rstrip("\r\n") for line in islice(source, size)]:
            yield chunk


class JsonLines(RecordReader):
    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def chunks(self, size: int) -> Iterator[list[Any]]:
        chunk: list[Any] = []
        loads = json.loads
        for number, line in enumerate(self.lines, 1):
            if not line or line.isspace():
                continue
            try:
                record = loads(line)
            except ValueError as error:
                raise self.lines.error(number, f"not valid JSON: {error}") from None
            except RecursionError:
                raise self.lines.error(number, TOO_DEEP) from None
            if line.count("[") + line.count("{") > MAX_NESTING and _nesting(record) > MAX_NESTING:
                raise self.lines.error(number, TOO_DEEP)
            chunk.append(record)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _nesting(value: Any) -> int:
    """How many containers deep a JSON value goes, found level by level (no recursion)."""
    depth = 0
    level = [value] if isinstance(value, list | dict) else []
    while level:
        depth += 1
        children = [c for v in level for c in (v.values() if isinstance(v, dict) else v)]
        level = [c for c in children if isinstance(c, list | dict)]
    return depth


class CsvRows(RecordReader):
    """CSV rows stored as lists; the header is read first and kept once per job."""

    def __init__(self, lines: Lines, delimiter: str | None) -> None:
        self.lines = lines
        self.rows = csv.reader(iter(lines), strict=True, delimiter=delimiter or ",")
        for row in self._guarded(self.rows):
            if row:
                self.header = _checked_header(row, lines, self.rows.line_num)
                if delimiter is None:
                    _refuse_another_delimiter(self.header, lines, self.rows.line_num)
                break

    def _guarded(self, rows: Iterator[list[str]]) -> Iterator[list[str]]:
        try:
            yield from rows
        except csv.Error as error:
            problem = str(error)
            if problem.startswith("new-line character seen in unquoted field"):
                problem = CARRIAGE_RETURN  # the csv module's advice is for programmers
            raise self.lines.error(self.rows.line_num, f"not valid CSV: {problem}") from None

    def chunks(self, size: int) -> Iterator[list[Any]]:
        if self.header is None:
            return
        width = len(self.header)
        chunk: list[Any] = []
        for row in self._guarded(self.rows):
            if len(row) != width:
                if not row:  # a blank line
                    continue
                raise self.lines.error(
                    self.rows.line_num, f"{len(row)} fields where the header has {width}"
                )
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def _checked_header(row: list[str], lines: Lines, line: int) -> list[str]:
    seen: set[str] = set()
    for name in row:
        if name in seen:
            raise lines.error(line, f"the header names column {name!r} twice")
        seen.add(name)
    return row


def _refuse_another_delimiter(header: list[str], lines: Lines, line: int) -> None:
    """A header read as one column that holds another usual delimiter: the whole file
    would load as one column, silently. Naming the delimiter (even ",") loads it."""
    if len(header) != 1:
        return
    for other in OTHER_DELIMITERS:
        if other in header[0]:
            raise lines.error(
                line,
                f"the header is one column holding {other!r}: if the file is separated by "
                f"{other!r}, name its delimiter (upload(delimiter={other!r}), or "
                f"--delimiter {other!r} on the command line)",
            )


def delimiter_problem(delimiter: str) -> str | None:
    """Why `delimiter` cannot separate CSV fields, or None when it can."""
    if len(delimiter) != 1 or delimiter in '"\r\n':
        return f"a CSV delimiter is one character, not a quote or line end: not {delimiter!r}"
    return None


class GivenRecords(RecordReader):
    """Records handed over as Python values: dicts for CSV, JSON values or strings else."""

    def __init__(self, records: Iterable[Any], input_format: str | None) -> None:
        self.source = iter(records)
        self.format = input_format
        self.first: list[Any] = []
        if input_format == "csv":
            self.first = list(islice(self.source, 1))
            if self.first:
                self.header = list(self._mapping(self.first[0], 1))

    def _mapping(self, record: Any, number: int) -> Mapping[str, Any]:
        if not isinstance(record, Mapping):
            kind = type(record).__name__
            raise UploadError("records", f"record {number}", f"a CSV record is a dict, not {kind}")
        return record

    def chunks(self, size: int) -> Iterator[list[Any]]:
        number = 0
        source = iter([*self.first, *islice(self.source, size - len(self.first))])
        while chunk := list(source):
            if self.format == "csv":
                chunk = [self._row(record, number + i) for i, record in enumerate(chunk, 1)]
            elif self.format is None:
                for i, record in enumerate(chunk, 1):
                    if not isinstance(record, str):
                        kind = type(record).__name__
                        raise UploadError(
                            "records", f"record {number + i}", f"a line is a str, not {kind}"
                        )
            number += len(chunk)
            yield chunk
            source = islice(self.source, size)

    def _row(self, record: Any, number: int) -> list[Any]:
        assert self.header is not None
        mapping = self._mapping(record, number)
        if list(mapping) != self.header and set(mapping) != set(self.header):
            raise UploadError(
                "records", f"record {number}", f"its keys {list(mapping)} are not {self.header}"
            )
        return [mapping[name] for name in self.header]


def reader_for(
    source: IO[bytes] | IO[str],
    name: str,
    input_format: str | None,
    encoding: str | None,
    delimiter: str | None = None,
) -> RecordReader:
    """Reads `source`; `encoding` None: as its byte order mark says, else UTF-8."""
    if delimiter is not None:
        if input_format != "csv":
            kind = input_format or "lines"
            raise UploadError(name, None, f"a delimiter separates CSV fields; it reads {kind}")
        if bad := delimiter_problem(delimiter):
            raise UploadError(name, None, bad)
    lines = Lines(source, name, encoding)
    if input_format == "csv":
        return CsvRows(lines, delimiter)
    if input_format == "jsonl":
        return JsonLines(lines)
    return RawLines(lines)


# -- output -----------------------------------------------------------------------------


class BadOutput(Exception):
    """A record perform() returned that the output format cannot hold."""

    def __init__(self, index: int, message: str) -> None:
        self.index = index
        super().__init__(message)


def encode_output(
    output_format: str, results: Sequence[Any], header: Sequence[str] | None
) -> tuple[str, int]:
    """The text of `results` (None entries skipped) and how many records it holds.

    Raises BadOutput naming the index (within `results`) of the first record that does not fit.
    """
    kept = [r for r in results if r is not None] if None in results else results
    try:
        if output_format == "csv":
            text = _csv_text(kept, header)
        elif output_format == "jsonl":
            text = _jsonl_text(kept)
        else:
            text = "".join([f"{r}\n" for r in kept])
    except (TypeError, ValueError, csv.Error):
        bad = first_bad_output(output_format, results, header)
        if bad is None:
            raise
        raise bad from None
    return text, len(kept)


def _csv_text(kept: Sequence[Any], header: Sequence[str] | None) -> str:
    rows: Iterable[Any]
    if header and kept and isinstance(kept[0], Mapping):
        try:
            rows = _fast_rows(kept, header)
        except (KeyError, TypeError, ValueError):
            rows = [_csv_row(r, header) for r in kept]
    else:
        rows = [_csv_row(r, header) for r in kept]
    return _joined_csv(rows, len(header) if header else 0) or _written_csv(rows)


def _joined_csv(rows: Iterable[Any], width: int) -> str | None:
    """The CSV text of rows of strings that need no quoting, or None when some might.

    Five times faster than the csv writer: the separators counted in the joined text
    prove that no field held a comma, quote or line break.
    """
    if width < 2:  # a lone empty field must be written quoted
        return None
    try:
        lines = list(map(",".join, rows))
    except TypeError:  # a value that is not a str
        return None
    text = "\r\n".join(lines)
    if (
        text.count(",") != len(lines) * (width - 1)
        or text.count("\n") != len(lines) - 1
        or text.count("\r") != len(lines) - 1
        or '"' in text
    ):
        return None
    return text + "\r\n" if lines else ""


def _written_csv(rows: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _fast_rows(kept: Sequence[Any], header: Sequence[str]) -> list[Any]:
    # itemgetter fails on a missing key; equal lengths then rule out extra keys.
    getter = itemgetter(*header)
    rows = list(map(getter, kept)) if len(header) > 1 else [(getter(r),) for r in kept]
    if set(map(len, kept)) != {len(header)}:
        raise ValueError("keys outside the header")
    return rows


def _csv_row(record: Any, header: Sequence[str] | None) -> Sequence[Any]:
    if isinstance(record, Mapping):
        if header is None:
            return list(record.values())
        extra = [key for key in record if key not in header]
        if extra:
            raise ValueError(f"fields {extra} are not in the CSV header {list(header)}")
        return [record.get(name, "") for name in header]
    if isinstance(record, list | tuple):
        return record
    raise TypeError(f"a CSV output record is a dict or a list, not {type(record).__name__}")


def _jsonl_text(kept: Sequence[Any]) -> str:
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return "".join([f"{line}\n" for line in map(encode, kept)])


def first_bad_output(
    output_format: str, results: Sequence[Any], header: Sequence[str] | None
) -> BadOutput | None:
    """The first record of `results` the format cannot hold, found one at a time."""
    for index, record in enumerate(results):
        if record is None:
            continue
        try:
            if output_format == "csv":
                csv.writer(io.StringIO()).writerow(_csv_row(record, header))
            elif output_format == "jsonl":
                json.dumps(record)
        except (TypeError, ValueError, csv.Error) as error:
            return BadOutput(index, str(error))
    return None


def parse_output(output_format: str, text: str, header: Sequence[str] | None) -> Iterator[Any]:
    """The records of an output text, as perform() returned them (CSV: dicts by header)."""
    if output_format == "csv":
        rows = csv.reader(io.StringIO(text, newline=""))
        if header:
            fields = list(header)
            return (dict(zip(fields, row, strict=False)) for row in rows)
        return rows
    # Records end at "\n" alone: str.splitlines() would also cut at U+2028, U+0085 and
    # others that JSON strings and lines may hold.
    lines = text.split("\n")[:-1]
    if output_format == "jsonl":
        return map(json.loads, lines)
    return iter(lines)
