"""A data file's content, read in bounded pieces and gunzipped on the fly when it is gzip.

Formats that declare their size up front (IDX, NPY) are read in three steps:
the header, a check of the declared size against :attr:`FileContent.max_size`
(the most the file could possibly hold), then the data, into a buffer that
grows as the data arrives and becomes the returned array without a copy.
Nothing is decompressed beyond what the reader asks for, so a gzip bomb costs
at most the array its header declares, a header that lies about a short
stream costs what the stream really holds, and a valid file costs its array
once (not the decompressed bytes and then a copy).
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import zlib
from typing import Callable

import numpy as np

from .errors import DataFileError

GZIP_MAGIC = b"\x1f\x8b"
# deflate's densest code turns 2 bits into a 258-byte match: no stream expands more than 1032:1.
MAX_DEFLATE_RATIO = 1032
CHUNK = 1 << 20
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


class FileContent:
    """The bytes of a file (decompressed if it starts with gzip's magic), read forward only.

    Made by :meth:`open` (a path) or :meth:`of_bytes`; use as a context
    manager. ``hash_content=True`` keeps a SHA-256 of the content read so far
    (:meth:`content_sha256`). Damaged gzip data raises
    :class:`DataFileError`; only the operating system's own failures are
    ``OSError``.
    """

    def __init__(self, fileobj, name: str, size: int, hash_content: bool = False):
        """``fileobj``: a binary file positioned at its start, ``size`` bytes long; ``name`` is its path."""
        self.path = name
        self._file = fileobj
        self.file_size = size
        self.compressed = fileobj.read(2) == GZIP_MAGIC
        fileobj.seek(0)
        self._stream = gzip.GzipFile(fileobj=fileobj, mode="rb") if self.compressed else fileobj
        self._digest = hashlib.sha256() if hash_content else None

    @classmethod
    def open(cls, path: str | os.PathLike, hash_content: bool = False) -> FileContent:
        """The content of the file at ``path``."""
        path = os.fspath(path)
        f = open(path, "rb")
        try:
            return cls(f, path, os.fstat(f.fileno()).st_size, hash_content)
        except BaseException:
            f.close()
            raise

    @classmethod
    def of_bytes(cls, data: bytes, name: str = "<bytes>") -> FileContent:
        """The content of ``data``, as if it were a file called ``name``."""
        return cls(io.BytesIO(data), name, len(data))

    @property
    def max_size(self) -> int:
        """The most content bytes this file could hold: its size, or deflate's best ratio times it."""
        return self.file_size * MAX_DEFLATE_RATIO if self.compressed else self.file_size

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only at the end of the content)."""
        data = self._guarded(self._stream.read, size)
        if self._digest is not None:
            self._digest.update(data)
        return data

    def read_up_to(self, size: int) -> np.ndarray:
        """Up to ``size`` bytes, fewer only at the end of the content (see :func:`read_up_to`)."""
        return read_up_to(self.read, size)

    def at_end(self) -> bool:
        """Whether the content is exhausted (reads at most one more byte)."""
        return not self.read(1)

    def content_sha256(self) -> str:
        """SHA-256 of the content read so far (needs ``hash_content=True``)."""
        if self._digest is None:
            raise RuntimeError("FileContent was opened without hash_content=True")
        return self._digest.hexdigest()

    def close(self) -> None:
        try:
            if self._stream is not self._file:
                self._stream.close()
        finally:
            self._file.close()

    def __enter__(self) -> FileContent:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _guarded(self, method, argument):
        try:
            return method(argument)
        except _GZIP_ERRORS as e:
            raise DataFileError(self.path, f"corrupt or truncated gzip data ({e or type(e).__name__})") from None


def read_up_to(read: Callable[[int], bytes], size: int) -> np.ndarray:
    """Up to ``size`` bytes from ``read`` (a file's ``read``) as a uint8 array, shorter only where the data ends.

    The array grows with the data, doubling (``ndarray.resize``: a realloc,
    which moves no data for large blocks) up to exactly ``size``, rather than
    being allocated at ``size`` first: a header can declare any size, and
    reading must cost about what the stream really holds (at most twice it
    while growing), and exactly ``size`` once it is all there.
    """
    buffer = np.empty(min(size, CHUNK), np.uint8)
    filled = 0
    while filled < size:
        chunk = read(min(CHUNK, size - filled))
        if not chunk:
            break
        if filled + len(chunk) > len(buffer):
            buffer.resize(min(size, max(2 * len(buffer), filled + len(chunk))), refcheck=False)
        buffer[filled:filled + len(chunk)] = np.frombuffer(chunk, np.uint8)
        filled += len(chunk)
    if filled < len(buffer):
        buffer.resize(filled, refcheck=False)
    return buffer
