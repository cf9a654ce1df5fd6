"""Hosts for multi-host tests: network namespaces made by the test, each linked by a veth pair
to a bridge in this namespace, where the tests' own PostgreSQL server listens. A host's link
can be cut and restored; everything is removed again, whatever the test did.

Addresses come from 198.18.0.0/15, the range set aside for benchmarking networks: nothing
outside this machine is ever addressed, and no real network uses it.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass

NETWORKS = ipaddress.ip_network("198.18.0.0/15")


def ip(*args: str, check: bool = True) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def unavailable() -> str | None:
    """Why this machine cannot make network namespaces, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip command is missing (apt-get install iproute2)"
    probe = f"rjprobe{uuid.uuid4().hex[:6]}"
    try:
        ip("netns", "add", probe)
    except RuntimeError as error:
        return f"cannot create a network namespace: {error}"
    ip("netns", "del", probe, check=False)
    return None


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of the benchmarking range that no route of this machine uses yet."""
    routes = ip("-4", "route", "show", "table", "all")
    used = [line.split()[0] for line in routes.splitlines() if line and line[0].isdigit()]
    taken = [ipaddress.ip_network(u, strict=False) for u in used if "/" in u]
    subnets = list(NETWORKS.subnets(new_prefix=24))
    random.shuffle(subnets)
    for subnet in subnets:
        if not any(subnet.overlaps(t) for t in taken):
            return subnet  # type: ignore[return-value]
    raise RuntimeError("no free /24 in 198.18.0.0/15")


@dataclass
class Host:
    namespace: str
    link: str  # this namespace's end of the veth pair, on the bridge
    address: str

    def prefix(self) -> list[str]:
        """What runs a command on this host."""
        return ["ip", "netns", "exec", self.namespace]

    def cut(self) -> None:
        """Pulls the cable: packets to and from the host are dropped, connections hang."""
        ip("link", "set", self.link, "down")

    def restore(self) -> None:
        ip("link", "set", self.link, "up")

    def kill_everything(self) -> None:
        """Ends every process still running on the host (only the test's own can be there)."""
        for pid in ip("netns", "pids", self.namespace, check=False).split():
            try:
                os.kill(int(pid), signal.SIGCONT)
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass


class Lab:
    """`count` hosts on one bridge; `gateway` is the bridge's address, in this namespace."""

    def __init__(self, count: int) -> None:
        token = uuid.uuid4().hex[:5]
        self.bridge = f"rjb{token}"
        self.subnet = free_subnet()
        addresses = list(self.subnet.hosts())
        self.gateway = str(addresses[0])
        self.hosts = [
            Host(f"rjlab{token}h{i}", f"rjv{token}{i}", str(addresses[10 + i]))
            for i in range(count)
        ]

    def build(self) -> None:
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            ip("addr", "add", f"{self.gateway}/{self.subnet.prefixlen}", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for host in self.hosts:
                ip("netns", "add", host.namespace)
                ip("link", "add", host.link, "type", "veth", "peer", "name", "eth0", "netns",
                   host.namespace)  # fmt: skip
                ip("link", "set", host.link, "master", self.bridge)
                ip("link", "set", host.link, "up")
                inside = ("-n", host.namespace)
                ip(*inside, "addr", "add", f"{host.address}/{self.subnet.prefixlen}", "dev", "eth0")
                ip(*inside, "link", "set", "eth0", "up")
                ip(*inside, "link", "set", "lo", "up")
        except BaseException:
            self.tear_down()
            raise

    def tear_down(self) -> None:
        for host in self.hosts:
            host.kill_everything()
            ip("netns", "del", host.namespace, check=False)  # takes its veth pair along
        ip("link", "del", self.bridge, check=False)
