"""Ours beside the Python peers, in one go on one machine, with ratios.

    python benchmarks/compare_peers.py [--rounds 2] [--systems "pgqueuer procrastinate"]

Runs ../shared/bench/peers/run_all.sh (with $PEERS_PY, a Python that has the peers
installed: pip install -r ../shared/bench/peers/requirements.txt) and
benchmarks/workers.py, alternating, `--rounds` times. Prints every measurement as a JSON
line, then one `ratio` line per figure: ours (PostgreSQL) over the best peer of the
same round, and the median over rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
PEERS = Path(os.environ.get("PEERS_DIR", HERE.parent.parent / "shared" / "bench" / "peers"))


# The same PostgreSQL, reached the same way by the peers and by us.
TRANSPORTS = {
    "socket": ("dbname=bench", "postgresql:///postgres?host=/var/run/postgresql"),
    "tcp": (
        "host=127.0.0.1 user=postgres dbname=bench",
        "postgresql://postgres@127.0.0.1/postgres",
    ),
}


def ensure_bench_database() -> None:
    """The peers expect a database named bench; a fresh machine has none."""
    listed = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-Atc",
            "SELECT 1 FROM pg_database WHERE datname = 'bench'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if not listed.stdout.strip():
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "bench"], check=True)


def run_peers(systems: str, transport: str) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "PY": os.environ.get("PEERS_PY", "python3"),
        "BENCH_SYSTEMS": systems,
        "BENCH_PG_DSN": TRANSPORTS[transport][0],
    }
    done = subprocess.run(
        ["bash", str(PEERS / "run_all.sh")], env=env, capture_output=True, text=True, check=False
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def run_ours(transport: str) -> list[dict[str, Any]]:
    env = {**os.environ, "ROCKETJOB_BENCH_POSTGRES_URL": TRANSPORTS[transport][1]}
    done = subprocess.run(
        [sys.executable, str(HERE / "workers.py"), "postgres", "sqlite"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def ours(results: list[dict[str, Any]], figure: str, backend: str = "postgres") -> dict[str, Any]:
    return next(r for r in results if r["figure"] == figure and r["backend"] == backend)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--systems", default="pgqueuer procrastinate huey rq-simple")
    parser.add_argument("--transport", choices=sorted(TRANSPORTS), default="socket")
    args = parser.parse_args()
    ensure_bench_database()
    ratios: dict[str, list[float]] = {"drain": [], "enqueue": [], "latency_p50": []}
    for round_number in range(1, args.rounds + 1):
        peers = run_peers(args.systems, args.transport)
        mine = run_ours(args.transport)
        for line in peers:
            print(json.dumps({"round": round_number, **line}), flush=True)
        for line in mine:
            print(json.dumps({"round": round_number, "system": "rocketjob", **line}), flush=True)
        measured = [p for p in peers if p.get("drain_jobs_per_s")]
        best_drain = max(measured, key=lambda p: p["drain_jobs_per_s"])
        best_enqueue = max(measured, key=lambda p: p["enqueue_jobs_per_s"] or 0)
        pg_peers = [p for p in measured if p["system"].startswith(("pgqueuer", "procrastinate"))]
        best_latency = min(pg_peers or measured, key=lambda p: p["latency_ms_p50"] or 1e9)
        for figure, value, peer, peer_value in [
            (
                "drain",
                ours(mine, "drain")["jobs_per_s"],
                best_drain,
                best_drain["drain_jobs_per_s"],
            ),
            (
                "enqueue",
                ours(mine, "enqueue")["jobs_per_s"],
                best_enqueue,
                best_enqueue["enqueue_jobs_per_s"],
            ),
            (
                "latency_p50",
                ours(mine, "pickup_latency")["p50_ms"],
                best_latency,
                best_latency["latency_ms_p50"],
            ),
        ]:
            # Latency: how many times lower ours is (higher is better, like the others).
            ratio = peer_value / value if figure.startswith("latency") else value / peer_value
            ratios[figure].append(ratio)
            print(
                json.dumps(
                    {
                        "round": round_number,
                        "figure": f"ratio_{figure}",
                        "rocketjob": value,
                        "peer": peer["system"],
                        "peer_value": peer_value,
                        "ratio": round(ratio, 2),
                    }
                ),
                flush=True,
            )
    for figure, values in ratios.items():
        print(
            json.dumps(
                {
                    "figure": f"ratio_{figure}_median",
                    "rounds": len(values),
                    "ratio": round(statistics.median(values), 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
