"""Mission Control: the web UI and JSON API to watch and steer every job and worker."""

from __future__ import annotations

from rocketjob.mission_control.app import create_app

__all__ = ["create_app"]
