"""`rocketjob demo`: a live system in one command, on a fresh SQLite file.

Enqueues a realistic mix of jobs, starts a worker process on them, keeps a trickle of new
work coming, and serves Mission Control. The job classes below are what the worker runs.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import FrameType

import rocketjob as rj
from rocketjob.mission_control.server import serve


class PaymentDeclined(Exception):
    pass


class SendWelcomeEmail(rj.Job):
    """Quick: a fraction of a second."""

    email: str
    destroy_on_complete = False

    def perform(self) -> None:
        time.sleep(random.uniform(0.2, 1.5))


class ResizeImages(rj.Job):
    """Slow, with progress; an operator may pause it while it runs."""

    album: str
    images: int = 40
    sizes: list[int] = [320, 1024, 2048]
    pausable = True
    destroy_on_complete = False
    priority = 40

    def perform(self) -> None:
        for done in range(1, self.images + 1):
            time.sleep(0.5)
            self.progress(100 * done / self.images)


class ChargeCard(rj.Job):
    """Fails: the card is declined."""

    customer_id: int
    amount: Decimal
    priority = 20

    def perform(self) -> None:
        raise PaymentDeclined(f"card of customer {self.customer_id} declined: insufficient funds")


class NightlyReport(rj.Job):
    """Scheduled: runs later."""

    report: str
    recipients: list[str] = []
    destroy_on_complete = False

    def perform(self) -> None:
        time.sleep(1)


class SyncInventory(rj.Job):
    """Nested fields, shown readable on its page; one warehouse is offline."""

    warehouse: str
    stock: dict[str, int] = {}
    destroy_on_complete = False

    def perform(self) -> None:
        time.sleep(random.uniform(1, 3))
        if self.warehouse == "Porto":
            raise ConnectionError(f"warehouse {self.warehouse} did not answer within 2 s")


class PriceOrders(rj.BatchJob):
    """A batch: order lines in, priced in dollars out, a slice at a time on every thread.

    The exchange-rate service is out for the job's first minute: the lines it would price
    then fail their slices, and a Retry after that runs only those slices, from the line
    that failed.
    """

    slice_size = 250
    input_format = "csv"
    output_format = "csv"
    euros_per_dollar: Decimal = Decimal("0.92")

    def perform(self, record: dict[str, str]) -> dict[str, str]:  # type: ignore[override]
        time.sleep(0.004)
        outage = self.created_at and datetime.now(UTC) - self.created_at < timedelta(minutes=1)
        if outage and int(record["line"]) % 2_111 == 0:
            raise TimeoutError("exchange-rate service did not answer within 5 s")
        record["usd"] = f"{Decimal(record['eur']) / self.euros_per_dollar:.2f}"
        return record


def order_lines(count: int) -> Iterator[dict[str, str]]:
    items = ("bolts", "nuts", "washers", "hinges", "brackets")
    for line in range(1, count + 1):
        eur = Decimal(random.randint(100, 99_999)) / 100
        yield {"line": str(line), "item": items[line % len(items)], "eur": f"{eur:.2f}"}


CUSTOMERS = ("ada@example.com", "grace@example.com", "linus@example.com", "barbara@example.com")


def enqueue_mix() -> None:
    now = datetime.now(UTC)
    SendWelcomeEmail.create_many(
        [{"email": email, "description": f"welcome {email}"} for email in CUSTOMERS]
    )
    for album in ("Holidays 2026", "Wedding", "Product shots"):
        ResizeImages.create(album=album, description=f"resize the album {album!r}")
    ChargeCard.create_many(
        [
            {"customer_id": customer, "amount": Decimal("129.90"), "description": "monthly plan"}
            for customer in (4217, 5120, 6001)
        ]
    )
    for hours, report in ((0.05, "signups"), (1, "revenue"), (20, "churn")):
        NightlyReport.create(
            report=report,
            recipients=["ops@example.com"],
            run_at=now + timedelta(hours=hours),
            description=f"{report} report",
        )
    SyncInventory.create(
        warehouse="Lyon", stock={"bolts": 1200, "nuts": 800}, description="sync stock"
    )
    held = ResizeImages.create(album="Archive", images=200, description="held for the night")
    held.pause(by="user:demo")
    orders = PriceOrders.create(description="price November's order lines", priority=60)
    orders.upload(order_lines(25_000))


def feed(stop: threading.Event) -> None:
    """New work every few seconds, so the lists move."""
    rounds = 0
    while not stop.wait(4):
        rounds += 1
        SendWelcomeEmail.create(email=f"user{rounds}@example.com", description="signup")
        if rounds % 3 == 0:
            ResizeImages.create(album=f"Upload {rounds}", images=20, description="new upload")
        if rounds % 7 == 0:
            ChargeCard.create(customer_id=1000 + rounds, amount=Decimal("9.99"))
        if rounds % 5 == 0:
            SyncInventory.create(warehouse="Porto", stock={"crates": rounds})


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run(*, host: str, port: int) -> None:
    # uvicorn re-raises the signal that stopped it: exit through the cleanup below.
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    folder = Path(tempfile.mkdtemp(prefix="rocketjob-demo-"))
    database_url = f"sqlite:///{folder / 'demo.sqlite3'}"
    rj.configure(database_url)
    enqueue_mix()
    print(f"demo database: {database_url}", flush=True)
    # A short stop timeout: on exit the demo's slow jobs are handed back, not awaited.
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "rocketjob", "--log-level", "WARNING", "worker",
            "--import", __name__, "--threads", "4", "--poll-interval", "0.5",
            "--stop-timeout", "1", "--database-url", database_url,
        ]
    )  # fmt: skip
    stop = threading.Event()
    feeder = threading.Thread(target=feed, args=(stop,), name="rocketjob-demo-feed", daemon=True)
    feeder.start()
    try:
        serve(host=host, port=port, database_url=None, announce="rocketjob demo: open")
    finally:
        stop.set()
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        rj.configure(None)
        shutil.rmtree(folder, ignore_errors=True)
