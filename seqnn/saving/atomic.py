"""Atomic file replacement: a crash at any moment leaves the old file or the new one, never half of one.

The new content goes to a temporary file beside the target,
``.<name>.<8 random characters>.tmp``, which is fsynced and renamed over the
target. A process killed before the rename leaves that temporary behind; the
next save of the same target removes it (see :func:`remove_stale_temporaries`).
"""
from __future__ import annotations

import os
import re
import secrets
import stat
import time
from typing import Callable

# Temporaries older than this process cannot belong to a write in progress here; one being written
# by another process that is still running is newer (its writes keep moving its mtime forward).
_PROCESS_START = time.time()
# The characters tempfile.mkstemp draws from, which earlier versions used for these names.
_RANDOM_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
_RANDOM_LENGTH = 8


def atomic_write(path: str | os.PathLike, write: Callable[[object], None]) -> None:
    """Write ``path`` through ``write(fileobj)``: temporary file in the same directory, fsync, rename.

    The temporary file lives beside the target so the rename stays on one
    filesystem (where ``os.replace`` is atomic); the directory is fsynced
    afterwards so the rename itself survives a power cut. A symbolic link is
    followed, so the file it points to is replaced and the link stays. A file
    that already exists keeps its permission bits; a new one gets what a plain
    ``open()`` would give it.
    """
    path = target_of(path)
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(path)
    mode = _existing_mode(path)
    fd, tmp = _create_temporary(path)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def target_of(path: str | os.PathLike) -> str:
    """The absolute path a save of ``path`` replaces: symbolic links followed, never a directory."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}: {path!r}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"path must be text, got bytes: {path!r}")
    if not path:
        raise ValueError("path is empty: give a file name")
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise ValueError(f"{path} is a directory: give a file name")
    return target


def temporary_pattern(path: str) -> re.Pattern:
    """The names of this target's temporaries: ``.<name>.<8 random characters>.tmp``."""
    return re.compile(rf"\.{re.escape(os.path.basename(path))}\.[{_RANDOM_ALPHABET}]{{{_RANDOM_LENGTH}}}\.tmp")


def remove_stale_temporaries(path: str | os.PathLike) -> list[str]:
    """Delete what a killed write of ``path`` left; returns the names removed.

    Only regular files whose whole name matches this target's pattern and that
    were last modified before this process started are removed: never another
    target's temporary, a link, a directory, or a write still in progress.
    """
    path = os.path.abspath(os.fspath(path))
    directory, pattern = os.path.dirname(path), temporary_pattern(path)
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed  # the directory is not there yet or not listable; the write reports real problems
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < _PROCESS_START:
                os.unlink(entry.path)
                removed.append(entry.name)
        except FileNotFoundError:
            continue  # removed meanwhile by another process cleaning up the same target
    return removed


def _create_temporary(path: str) -> tuple[int, str]:
    # os.open with 0o666 lets the OS apply the umask, as a plain open() does (mkstemp would make it
    # 0600, and reading the umask means changing it, which other threads would see).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    directory, name = os.path.split(path)
    while True:
        suffix = "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(_RANDOM_LENGTH))
        tmp = os.path.join(directory, f".{name}.{suffix}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _existing_mode(path: str) -> int | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
