"""Where dirmon may look: patterns and archive directories under the configured roots.

A pattern is an absolute glob (`**` recurses, `{csv,txt}` gives alternatives, read by
wcmatch). Its directory part before the first wildcard, with every symlink resolved, and
every file it matches, must lie under one of `dirmon_roots`: an entry saved from a web form
can never make a worker read or move files elsewhere.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from wcmatch import glob

from rocketjob.config import DIRMON_ROOTS_ENV, dirmon_roots
from rocketjob.errors import ConfigurationError

FLAGS = glob.GLOBSTAR | glob.BRACE | glob.NODIR
HOW_TO_CONFIGURE = (
    "dirmon has no directories to watch: set rj.configure(dirmon_roots=['/data/in']) or "
    f"${DIRMON_ROOTS_ENV}=/data/in (several separated by {os.pathsep!r}); "
    "patterns must lie under one of them"
)


def roots() -> list[Path]:
    """The configured roots, symlinks resolved; ConfigurationError if there are none."""
    configured = dirmon_roots()
    if not configured:
        raise ConfigurationError(HOW_TO_CONFIGURE)
    return [Path(os.path.realpath(root)) for root in configured]


def under_roots(path: str | Path, allowed: list[Path]) -> bool:
    """Whether `path`, every symlink on it resolved, lies in one of `allowed`."""
    real = Path(os.path.realpath(path))
    return any(real == root or real.is_relative_to(root) for root in allowed)


def base_directory(pattern: str) -> Path:
    """The pattern's directories before its first wildcard: "/in/**/*.csv" → /in."""
    parts = Path(pattern).parts
    fixed: list[str] = []
    for part in parts[:-1]:
        if glob.is_magic(part, flags=FLAGS):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def pattern_problems(pattern: str) -> list[str]:
    """What is wrong with a pattern (empty: nothing); needs the roots configured."""
    if not pattern or not pattern.strip():
        return ["is required"]
    if not os.path.isabs(pattern):
        return [f"must be an absolute path (under {_shown(roots())}): {pattern!r}"]
    if ".." in Path(pattern).parts:
        return [f"must not contain '..': {pattern!r}"]
    if pattern.endswith(os.sep):
        return [f"must end with a file name pattern, not {os.sep!r}: {pattern!r}"]
    if pattern.count("{") != pattern.count("}") or pattern.count("[") != pattern.count("]"):
        return [f"has an unclosed '{{' or '[': {pattern!r}"]
    allowed = roots()
    if not under_roots(base_directory(pattern), allowed):
        return [f"{pattern!r} is not under a dirmon root ({_shown(allowed)})"]
    return []


def archive_path(pattern: str, archive_directory: str) -> Path:
    """The archive directory: as given if absolute, else in the pattern's base directory."""
    given = Path(archive_directory)
    return given if given.is_absolute() else base_directory(pattern) / given


def real_archive(pattern: str, archive_directory: str) -> Path:
    """The archive directory with every symlink resolved: two entries' archives compared."""
    return Path(os.path.realpath(archive_path(pattern, archive_directory)))


def archive_problems(pattern: str, archive_directory: str) -> list[str]:
    if not archive_directory or not archive_directory.strip():
        return ["is required"]
    if ".." in Path(archive_directory).parts:
        return [f"must not contain '..': {archive_directory!r}"]
    allowed = roots()
    if not under_roots(archive_path(pattern, archive_directory), allowed):
        return [f"{archive_directory!r} is not under a dirmon root ({_shown(allowed)})"]
    return []


def matching_files(pattern: str, archives: list[Path]) -> Iterator[tuple[str, os.stat_result]]:
    """Each regular file the pattern matches now, with its stat: none in an archive (any
    entry's: a file another entry started a job for is not new), none that is a symlink or
    leads outside the roots, none this process could not move."""
    allowed = roots()
    # An archive leading out of the roots (refused when scanned) must not hide the roots.
    real_archives = [
        Path(os.path.realpath(archive)) for archive in archives if under_roots(archive, allowed)
    ]
    for found in glob.iglob(pattern, flags=FLAGS):
        try:
            info = os.lstat(found)
        except FileNotFoundError:
            continue  # taken meanwhile
        if not stat.S_ISREG(info.st_mode) or not under_roots(found, allowed):
            continue
        real = Path(os.path.realpath(found))
        if any(real.is_relative_to(archive) for archive in real_archives):
            continue
        # Moving it needs write access to its directory; reading it, to the file.
        if not os.access(found, os.R_OK | os.W_OK) or not os.access(real.parent, os.W_OK):
            continue
        yield found, info


def _shown(allowed: list[Path]) -> str:
    return ", ".join(str(root) for root in allowed)
