"""Mission Control's batch downloads escape what a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from batch_jobs import Upcase
from batching import process, start
from starlette.testclient import TestClient

from rocketjob.store import Store


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_output_downloads_escape_formulas_unless_asked_not_to(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    source = tmp_path / "formulas.csv"
    source.write_text('id,name,city\n1,=HYPERLINK("http://evil"),-3\n2,@SUM(A1),"\tx"\n')
    job = Upcase.create()
    job.upload(source)
    start(store)
    process(store)
    safe = client.get(f"/jobs/{job.id}/output")
    assert safe.status_code == 200
    assert rows(safe.text) == [
        ["id", "name", "city"],
        ["1", '\'=HYPERLINK("HTTP://EVIL")', "-3"],
        ["2", "'@SUM(A1)", "'\tx"],
    ]
    exact = client.get(f"/jobs/{job.id}/output?escape_formulas=false")
    assert rows(exact.text)[1:] == [
        ["1", '=HYPERLINK("HTTP://EVIL")', "-3"],
        ["2", "@SUM(A1)", "\tx"],
    ]
    assert client.get(f"/jobs/{job.id}/output?escape_formulas=maybe").status_code == 422


def test_failed_records_downloads_escape_formulas(
    store: Store, client: TestClient, tmp_path: Path
) -> None:
    source = tmp_path / "nameless.csv"
    source.write_text("id,city\n1,+cmd|' /C calc'!A0\n")  # no name: Upcase raises KeyError
    job = Upcase.create()
    job.upload(source)
    start(store)
    process(store)
    got = client.get(f"/jobs/{job.id}/failed-records.csv")
    assert rows(got.text)[1] == ["1", "KeyError", "'name'", "1", "'+cmd|' /C calc'!A0"]
