"""Spreadsheet formula injection: CSV cells that Excel, LibreOffice or Google Sheets would
run as formulas, escaped with a leading single quote as OWASP recommends.

Plain numbers ("-12.5", "+33") are left alone: a spreadsheet reads them as numbers, never
as formulas, and a quote would turn every negative amount into text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Where a cell may start a formula: at the start, after a separator or a line end, quoted
# or not (a cell starting with a carriage return is always quoted).
_SUSPECT = re.compile(r'(?:^|[,\n])(?:"[=+\-@\t\r]|[=+\-@\t])')


def escaped_cell(value: Any) -> Any:
    """`value` with a leading quote if a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return f"'{value}"
    return value


def escaped_row(values: Sequence[Any]) -> list[Any]:
    return [escaped_cell(value) for value in values]


def escaped_csv(text: str) -> str:
    """CSV text (as the csv module writes it) with every formula cell escaped."""
    if not _SUSPECT.search(text):  # most slices: no cell could start a formula
        return text
    buffer = io.StringIO()
    rows = csv.reader(io.StringIO(text, newline=""))
    csv.writer(buffer).writerows(map(escaped_row, rows))
    return buffer.getvalue()
