"""Files in and out of batch jobs, compressed by their name: .gz, .bz2, .zip, or plain.

Reading and writing stream: a file is never held in memory whole.
"""

from __future__ import annotations

import bz2
import gzip
import os
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from rocketjob.errors import UploadError

PathLike = str | os.PathLike[str]
ENCRYPTED = 0x1  # the zip flag bit of a password-protected member


@dataclass
class OpenedSource:
    """A readable byte stream of a file's content, and how far into the file reading is."""

    stream: IO[bytes]
    name: str
    size: int  # bytes on disk
    _raw: IO[bytes]

    def position(self) -> int:
        """Bytes of the file on disk read so far (compressed bytes, for compressed files)."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0


def compression(path: PathLike) -> str | None:
    suffix = Path(path).suffix.lower()
    return suffix[1:] if suffix in (".gz", ".bz2", ".zip") else None


@contextmanager
def open_source(path: PathLike) -> Iterator[OpenedSource]:
    """Opens a file for reading, decompressing it as its name says."""
    name = os.fspath(path)
    try:
        raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by the stack below
    except OSError as error:
        raise UploadError(name, None, f"cannot read it: {error.strerror or error}") from None
    with ExitStack() as stack:
        stack.enter_context(raw)
        size = os.fstat(raw.fileno()).st_size
        kind = compression(path)
        stream: IO[bytes] = raw
        if kind == "gz":
            unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            stream = cast("IO[bytes]", unzipped)
        elif kind == "bz2":
            stream = stack.enter_context(bz2.BZ2File(raw, mode="rb"))
        elif kind == "zip":
            stream, name = _zip_member(stack, raw, name)
        yield OpenedSource(stream, name, size, raw)


def _zip_member(stack: ExitStack, raw: IO[bytes], name: str) -> tuple[IO[bytes], str]:
    try:
        archive = stack.enter_context(zipfile.ZipFile(raw))
    except zipfile.BadZipFile as error:
        raise UploadError(name, None, f"not a readable zip file ({error})") from None
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) != 1:
        raise UploadError(
            name, None, f"a zip file to upload must hold exactly one file, not {len(members)}"
        )
    member = f"{name}:{members[0].filename}"
    if members[0].flag_bits & ENCRYPTED:
        raise UploadError(member, None, "cannot be read: it is encrypted (password protected)")
    try:
        opened = archive.open(members[0])
    except NotImplementedError as error:  # a compression method zipfile does not know
        raise UploadError(member, None, f"cannot be read: {error}") from None
    return stack.enter_context(opened), member


@contextmanager
def open_target(path: PathLike) -> Iterator[IO[bytes]]:
    """Opens a file for writing, compressed as its name says.

    Written beside its final name and moved there only when complete, so a failed
    download never leaves half a file behind.
    """
    final = Path(path)
    temporary = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.part"
    try:
        raw = open(temporary, "xb")  # noqa: SIM115 - closed by the stack below
    except OSError as error:  # named by the file asked for, not by its temporary
        raise OSError(error.errno, error.strerror, os.fspath(path)) from None
    try:
        with ExitStack() as stack:
            stack.enter_context(raw)
            kind = compression(final)
            if kind == "gz":
                zipped = stack.enter_context(
                    gzip.GzipFile(filename=final.stem, fileobj=raw, mode="wb")
                )
                yield cast("IO[bytes]", zipped)
            elif kind == "bz2":
                yield stack.enter_context(bz2.BZ2File(raw, mode="wb"))
            elif kind == "zip":
                archive = stack.enter_context(
                    zipfile.ZipFile(raw, mode="w", compression=zipfile.ZIP_DEFLATED)
                )
                yield stack.enter_context(archive.open(final.stem, mode="w", force_zip64=True))
            else:
                yield raw
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
