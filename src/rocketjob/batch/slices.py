"""Slice payloads: a slice's records as zlib-compressed JSON, its output as compressed text.

zlib level 1: most of the space saved at a small part of the cost of higher levels, so the
compression stays a few percent of the time spent on a record.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rocketjob.records import JobException

LEVEL = 1
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_records(records: list[Any]) -> bytes:
    """Raises TypeError or ValueError when a record cannot be stored as JSON."""
    try:
        text = _encode(records)
    except RecursionError:
        raise ValueError("nested too deeply to be stored as JSON") from None
    return zlib.compress(text.encode("utf-8"), LEVEL)


def decode_records(payload: bytes) -> list[Any]:
    records: list[Any] = json.loads(zlib.decompress(payload))
    return records


def encode_output(text: str, before: bytes | None = None) -> bytes:
    """Compressed output text, appended to the output a slice already had (a retry)."""
    data = text.encode("utf-8")
    if before:
        data = zlib.decompress(before) + data
    return zlib.compress(data, LEVEL)


def decode_output(payload: bytes | None) -> bytes:
    return zlib.decompress(payload) if payload else b""


@dataclass(frozen=True)
class FailedSlice:
    """A slice a record made fail: where it is, which record raised, and what it raised."""

    position: int
    first_record: int
    record_count: int
    failed_record: int  # number within the uploaded file
    exception: JobException
    worker_name: str | None
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class FailedRecord:
    """The record that raised, as perform() received it."""

    position: int  # of its slice
    number: int  # within the uploaded file
    record: Any
    exception: JobException


@dataclass(frozen=True)
class FailureGroup:
    """Failed slices that raised the same exception class."""

    class_name: str
    slices: int
    first_position: int
