"""Mission Control: the web UI and JSON API to watch and steer every job and worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rocketjob.mission_control.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line formats jobs with views.py without paying
    # for the web framework.
    if name == "create_app":
        from rocketjob.mission_control.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
