from __future__ import annotations

from rocketjob.cli import main

main()
