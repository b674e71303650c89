"""The arrays of an ``.npz`` archive (``numpy.savez``), read without trusting its zip directory.

A zip directory says where each member's data lies and how large it is, and a
hostile one lies. Before any member is read, the directory is checked:
members use numpy's methods (stored or deflated), are not encrypted, do not
overlap one another (the overlapping-entries zip bomb), fit in the file, and
claim no more than deflate's 1:1032 expansion. Each member is then an ``.npy``
file read with :mod:`.npy_format`, its header checked against the member's
size before its array is allocated; :mod:`zipfile` checks each member's CRC-32
as it is read to the end.
"""
from __future__ import annotations

import errno
import os
import struct
import zipfile
import zlib

import numpy as np

from . import npy_format
from .errors import DataFileError
from .file_content import MAX_DEFLATE_RATIO

_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_LOCAL_HEADER = 30  # a local file header's fixed part, before the name and the extra field
# What zipfile raises for bytes that are not a zip archive it can read. OSError only for an impossible seek
# (EINVAL from a negative offset in the directory): see _reading.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, struct.error, ValueError,
               NotImplementedError, RuntimeError, OverflowError, IndexError, KeyError)


class NpzArchive:
    """An open ``.npz`` file: :attr:`keys` (member names without ``.npy``) and :meth:`read` (one array).

    Use as a context manager. Every error is a :class:`DataFileError` naming
    the file (and the member); only the operating system's own failures are
    ``OSError``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self._file = open(self.path, "rb")
        try:
            size = os.fstat(self._file.fileno()).st_size
            with self._reading():
                self._zip = zipfile.ZipFile(self._file)
                self._members = _checked_members(self._zip.infolist(), size, self.path)
        except BaseException:
            self._file.close()
            raise

    @property
    def keys(self) -> list[str]:
        return list(self._members)

    def read(self, key: str) -> np.ndarray:
        """The array stored under ``key``."""
        info = self._members[key]
        with self._reading(info.filename), self._zip.open(info) as member:
            header = npy_format.read_header(member, self.path, info.filename)
            npy_format.check_size(header, info.file_size - header.data_offset, self.path, info.filename)
            array = npy_format.read_array(member, header, self.path, info.filename)
            if member.read(1):  # also makes zipfile reach the member's end, where it checks the CRC-32
                raise DataFileError(self.path, f"member {info.filename!r} holds more than its declared size")
        return array

    def close(self) -> None:
        try:
            if hasattr(self, "_zip"):
                self._zip.close()
        finally:
            self._file.close()

    def __enter__(self) -> NpzArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _reading(self, member: str | None = None):
        return _ZipErrors(self.path, member)


class _ZipErrors:
    """Turns zipfile's errors for malformed bytes into DataFileError, leaving real I/O errors alone."""

    def __init__(self, path: str, member: str | None):
        self.path, self.member = path, member

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is None or issubclass(kind, DataFileError):
            return False
        malformed = issubclass(kind, _ZIP_ERRORS) or (issubclass(kind, OSError) and error.errno == errno.EINVAL)
        if not malformed:
            return False
        where = f"member {self.member!r}: " if self.member else ""
        raise DataFileError(self.path, f"not a readable .npz file ({where}{error or kind.__name__})") from None


def _checked_members(infos: list, file_size: int, path: str) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        key = name[:-4] if name.endswith(".npy") else name  # numpy's own naming of npz keys
        if key in members:
            raise DataFileError(path, f"two members are named {name!r}")
        if info.compress_type not in _METHODS:
            raise DataFileError(path, f"member {name!r} uses zip compression method {info.compress_type}; "
                                      "numpy writes stored or deflated members only")
        if info.flag_bits & 0x1:
            raise DataFileError(path, f"member {name!r} is encrypted")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise DataFileError(path, f"member {name!r} is stored uncompressed but declares {info.file_size} "
                                      f"bytes in {info.compress_size}")
        if info.file_size > MAX_DEFLATE_RATIO * max(info.compress_size, 1):
            raise DataFileError(path, f"member {name!r} declares {info.file_size} bytes from {info.compress_size} "
                                      f"compressed: more than deflate can expand to (1:{MAX_DEFLATE_RATIO})")
        members[key] = info
    _check_layout(list(members.values()), file_size, path)
    return members


def _check_layout(infos: list, file_size: int, path: str) -> None:
    """Members lie one after another inside the file, none inside another's data."""
    end, previous = 0, None
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset < 0:
            raise DataFileError(path, f"member {info.filename!r} starts {-info.header_offset} bytes before the "
                                      "file does")
        if info.header_offset < end:
            raise DataFileError(path, f"members {previous!r} and {info.filename!r} overlap (a zip bomb's "
                                      "construction, never numpy's)")
        name_length = len(info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437",
                                                    errors="replace"))
        end = info.header_offset + _LOCAL_HEADER + name_length + info.compress_size
        previous = info.filename
        if end > file_size:
            raise DataFileError(path, f"member {info.filename!r} declares {info.compress_size} bytes of data "
                                      f"at offset {info.header_offset}, beyond the file's {file_size} bytes")
