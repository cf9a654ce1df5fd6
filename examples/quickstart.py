"""Enqueue a few jobs on a SQLite file and run them with a real worker process.

python examples/quickstart.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rocketjob as rj

HERE = Path(__file__).parent
DATABASE_FILE = HERE / "quickstart.sqlite3"
DATABASE_URL = f"sqlite:///{DATABASE_FILE}"


def main() -> None:
    sys.path.insert(0, str(HERE))
    from greetings import Fragile, Hello

    for stale in HERE.glob(f"{DATABASE_FILE.name}*"):
        stale.unlink()  # every run starts from an empty database
    rj.configure(DATABASE_URL)
    Hello.create_many([{"name": name} for name in ("Ada", "Grace", "Linus")])
    urgent = Hello.create(name="urgent", priority=1, description="runs first")
    broken = Fragile.create(description="fails on purpose")
    print(f"enqueued; counts: {rj.Job.counts()}")

    subprocess.run(
        [
            sys.executable,
            "-m",
            "rocketjob",
            "worker",
            "--burst",
            "--threads",
            "2",
            "--import",
            "greetings",
            "--database-url",
            DATABASE_URL,
        ],
        cwd=HERE,
        check=True,
    )
    print(f"after the worker; counts: {rj.Job.counts()}")
    print(f"job {urgent.id}: {urgent.reload().state}")
    failed = broken.reload()
    assert failed.exception is not None
    print(
        f"job {failed.id}: {failed.state}, {failed.exception.class_name}: "
        f"{failed.exception.message}"
    )
    failed.retry(by="user:quickstart")
    print(f"job {failed.id} after retry: {failed.state}; history:")
    for entry in failed.history():
        print(
            f"  {entry.at:%H:%M:%S.%f} {entry.from_state} -> {entry.to_state} "
            f"({entry.action} by {entry.by})"
        )


if __name__ == "__main__":
    main()
