"""HTTP/1.1 spoken over a plain socket, to send what ordinary clients will not: a chunked
body that stops as soon as the server answers, or a Content-Length with no body behind it."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the server took before it answered


def _head(method: str, path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *_lines(headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _lines(headers: dict[str, str]) -> list[str]:
    return [f"{name}: {value}" for name, value in headers.items()]


def _answered(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def send_chunked(
    port: int,
    path: str,
    *,
    total: int,
    chunk: bytes,
    headers: dict[str, str],
    timeout: float = 60,
) -> Answer:
    """POSTs up to `total` bytes as chunks of `chunk`, stopping early once the server
    answers (or hangs up), then reads the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(_head("POST", path, port, {**headers, "Transfer-Encoding": "chunked"}))
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent = 0
        try:
            while sent < total and not _answered(sock):
                sock.sendall(framed)
                sent += len(chunk)
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server hung up on the rest of the body: its answer is still there
        return _read_answer(sock, sent)


def send_declared(port: int, path: str, *, length: int, headers: dict[str, str]) -> Answer:
    """POSTs headers that announce `length` body bytes, sends none of them, and reads the
    answer: a server that waits for the body times out here."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head("POST", path, port, {**headers, "Content-Length": str(length)}))
        return _read_answer(sock, 0)


def _read_answer(sock: socket.socket, sent: int) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise AssertionError(f"the server hung up without answering: {data!r}")
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        piece = sock.recv(65536)
        if not piece:
            break
        body += piece
    return Answer(int(status_line.split()[1]), headers, body[:length], sent)
