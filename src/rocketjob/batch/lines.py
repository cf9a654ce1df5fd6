"""The text lines of an upload: decoded as its byte order mark (or the caller) says, cut
at "\\n" alone, and counted, so that every problem names its line."""

from __future__ import annotations

import codecs
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import IO, Any, cast

from rocketjob.errors import UploadError

# Read this much at a time: big enough to keep the per-line cost in C.
READ_BLOCK = 1 << 20
DEFAULT_ENCODING = "utf-8"
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile)
# The UTF-32 LE mark begins with the UTF-16 LE one: it is looked for first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def encoding_of(head: bytes) -> str:
    """The encoding a file's first bytes announce with a byte order mark, else UTF-8."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            return encoding
    return DEFAULT_ENCODING


class Lines:
    """The text lines of a byte (or text) stream, counted, with errors naming the line.

    Bytes are decoded as `encoding`, or when it is None as the byte order mark says (UTF-8,
    UTF-16 or UTF-32), else as UTF-8. Lines end at "\\n" alone and keep it.
    """

    def __init__(self, stream: IO[bytes] | IO[str], name: str, encoding: str | None) -> None:
        self.stream = stream
        self.name = name
        self.encoding = encoding
        self.line = 0  # lines handed out so far
        if encoding is not None:
            try:
                "\n".encode(encoding)
            except LookupError:
                raise UploadError(name, None, f"unknown text encoding {encoding!r}") from None

    def __iter__(self) -> Iterator[str]:
        for lines in self._blocks():
            if not self.line and lines and lines[0].startswith("\ufeff"):
                lines[0] = lines[0][1:]  # a byte order mark is not data
            self.line += len(lines)
            yield from lines

    def _blocks(self) -> Iterator[list[str]]:
        first = self._read(self.stream.readlines, READ_BLOCK)
        if not first:
            return
        if isinstance(first[0], str):  # a text stream decodes as it reads
            yield first
            while block := self._read(self.stream.readlines, READ_BLOCK):
                yield block
            return
        if self.encoding is None:
            self.encoding = encoding_of(b"".join(first[:4])[:4])
        if "\n".encode(self.encoding) == b"\n":  # the byte "\n" ends every line
            yield self._decode(first)
            while block := self._read(self.stream.readlines, READ_BLOCK):
                yield self._decode(block)
            return
        rest = iter(lambda: self._read(self.stream.read, READ_BLOCK), b"")
        yield from self._decoded(chain([b"".join(first)], rest))

    def _read(self, read: Any, size: int) -> Any:
        try:
            return read(size)
        except UnicodeDecodeError as error:  # a text stream decoding as it reads
            raise self.error(self.line + 1, f"cannot be decoded: {error.reason}") from None
        except _READ_ERRORS as error:
            raise self.error(self.line + 1, f"cannot be read further: {error}") from None

    def _decode(self, block: list[bytes]) -> list[str]:
        encoding = cast("str", self.encoding)
        try:
            return [raw.decode(encoding) for raw in block]
        except UnicodeDecodeError:
            for index, raw in enumerate(block):
                try:
                    raw.decode(encoding)
                except UnicodeDecodeError as error:
                    raise self.error(self.line + index + 1, _undecodable(encoding, error)) from None
            raise

    def _decoded(self, chunks: Iterable[bytes]) -> Iterator[list[str]]:
        """Lines of an encoding whose line ends are not the byte "\\n" (UTF-16, UTF-32)."""
        encoding = cast("str", self.encoding)
        decoder = codecs.getincrementaldecoder(encoding)()
        pending: list[str] = []  # the line not ended yet, in pieces
        for chunk in chain(chunks, [b""]):
            state = decoder.getstate()
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                # Decoded again up to the bad bytes, to count the lines before them.
                decoder.setstate(state)
                good = chunk[: max(0, error.start - len(state[0]))]
                before = "".join(pending) + decoder.decode(good)
                line = self.line + before.count("\n") + 1
                raise self.error(line, _undecodable(encoding, error)) from None
            pending.append(text)
            if "\n" in text:
                *lines, tail = "".join(pending).split("\n")
                pending = [tail]
                yield [f"{line}\n" for line in lines]
        if tail := "".join(pending):
            yield [tail]

    def error(self, line: int, problem: str) -> UploadError:
        return UploadError(self.name, f"line {line}", problem)


def _undecodable(encoding: str, error: UnicodeDecodeError) -> str:
    return f"cannot be decoded as {encoding}: {error.reason}"
