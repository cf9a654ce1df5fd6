"""Dirmon: files dropped in a watched directory become jobs, once each (see scan.py)."""

from __future__ import annotations

from rocketjob.dirmon.entry import DirmonEntry, DirmonState

__all__ = ["DirmonEntry", "DirmonState"]
