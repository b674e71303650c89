"""The ``.npy`` format, read strictly: the header is parsed and checked before anything is allocated.

numpy's own reader lets its header parser's errors out (tokenize's TokenError
and IndentationError, OverflowError for a dimension beyond int64, MemoryError
from a deeply nested expression, TypeError for a ``True`` dimension) and
allocates the array a header declares before it finds the data missing. Here
the header dictionary is parsed under numpy's size limit for untrusted
headers, every field is checked (shape of non-negative ints, a real bool, a
dtype without Python objects), and the declared size is compared with the
bytes the file holds before an array is allocated or mapped.

Errors are :class:`~.errors.DataFileError`, prefixed with the member's name
when the ``.npy`` file is a member of an ``.npz`` archive.
"""
from __future__ import annotations

import ast
import math
import re
import struct
import warnings
from dataclasses import dataclass

import numpy as np

from .declared_shapes import beyond_numpy
from .errors import DataFileError
from .file_content import read_up_to

MAGIC = b"\x93NUMPY"
# numpy's limit for headers it has not been told to trust (numpy.lib.format._MAX_HEADER_SIZE).
MAX_HEADER_SIZE = 10_000
MAX_DIMENSIONS = 64  # numpy's NPY_MAXDIMS
_LENGTH_FIELD = {1: "<H", 2: "<I", 3: "<I"}
_ENCODING = {1: "latin1", 2: "latin1", 3: "utf-8"}
_KEYS = {"descr", "fortran_order", "shape"}
# Python 2 wrote long integers as 3L; numpy still reads such headers (format versions 1 and 2).
_PY2_LONG = re.compile(r"(?<![\w'\"])(\d+)L\b")
# What ast.literal_eval and numpy's descr_to_dtype raise for text they cannot take. MemoryError and
# RecursionError come from a deeply nested expression, not from a lack of memory: the text is < 10 kB.
_PARSE_ERRORS = (SyntaxError, ValueError, TypeError, MemoryError, RecursionError, OverflowError)
_DTYPE_ERRORS = _PARSE_ERRORS + (KeyError, IndexError, AttributeError, NotImplementedError)


@dataclass(frozen=True)
class NpyHeader:
    """What an ``.npy`` header declares, checked: the array's shape, dtype and layout, and where its data starts."""

    shape: tuple
    dtype: np.dtype
    fortran_order: bool
    data_offset: int

    @property
    def count(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.count * self.dtype.itemsize


class _Problem(Exception):
    """A format error found before the caller has said which file (and member) it came from."""


def read_header(f, path: str, member: str | None = None) -> NpyHeader:
    """The header of the ``.npy`` file that binary ``f`` is positioned at the start of."""
    try:
        return _read_header(f)
    except _Problem as e:
        raise DataFileError(path, _where(member) + str(e)) from None


def check_size(header: NpyHeader, available: int, path: str, member: str | None = None) -> None:
    """The data after the header must be exactly the declared array: neither shorter nor longer."""
    if header.nbytes != available:
        what = "truncated" if header.nbytes > available else "has trailing bytes"
        raise DataFileError(path, f"{_where(member)}.npy data {what}: the header declares shape {header.shape} "
                                  f"of {header.dtype} ({header.nbytes} bytes), the file holds {available} bytes "
                                  "after the header")


def read_array(f, header: NpyHeader, path: str, member: str | None = None) -> np.ndarray:
    """The array whose data follows ``header`` in ``f`` (sizes already checked with :func:`check_size`).

    The data is read into a buffer that grows as it arrives (:func:`~.file_content.read_up_to`), so a
    compressed member that declares more than its stream holds costs only what it holds.
    """
    if header.nbytes == 0:  # nothing to read (and frombuffer cannot make items of size 0)
        return np.empty(header.shape, header.dtype, order="F" if header.fortran_order else "C")
    data = read_up_to(f.read, header.nbytes)
    if len(data) < header.nbytes:
        raise DataFileError(path, f"{_where(member)}.npy data truncated after {len(data)} of {header.nbytes} "
                                  "bytes")
    flat = data.view(header.dtype)  # the buffer itself: no copy
    if header.fortran_order:
        return flat.reshape(header.shape[::-1]).transpose()
    return flat.reshape(header.shape)


def memory_map(path: str, header: NpyHeader) -> np.ndarray:
    """A read-only map of the array in the ``.npy`` file ``path`` (sizes already checked)."""
    if header.count == 0:  # mmap cannot map nothing; an empty array needs no file anyway
        empty = np.empty(header.shape, header.dtype, order="F" if header.fortran_order else "C")
        empty.flags.writeable = False
        return empty
    return np.memmap(path, dtype=header.dtype, mode="r", shape=header.shape,
                     order="F" if header.fortran_order else "C", offset=header.data_offset)


def _where(member: str | None) -> str:
    return f"member {member!r}: " if member is not None else ""


def _read_header(f) -> NpyHeader:
    prefix = f.read(len(MAGIC) + 2)
    if len(prefix) < len(MAGIC) + 2 or not prefix.startswith(MAGIC):
        raise _Problem(f"not an .npy file (it starts with {prefix[:8]!r}, expected {MAGIC!r} and a version)")
    version = prefix[len(MAGIC)]
    if version not in _LENGTH_FIELD or prefix[-1] != 0:
        raise _Problem(f"unknown .npy format version {version}.{prefix[-1]} (numpy writes 1.0, 2.0 and 3.0)")
    length_field = f.read(struct.calcsize(_LENGTH_FIELD[version]))
    if len(length_field) < struct.calcsize(_LENGTH_FIELD[version]):
        raise _Problem("truncated .npy header (the header length is cut off)")
    (length,) = struct.unpack(_LENGTH_FIELD[version], length_field)
    if length > MAX_HEADER_SIZE:
        raise _Problem(f".npy header of {length} bytes, more than the {MAX_HEADER_SIZE} that numpy reads from "
                       "files it does not trust")
    raw = f.read(length)
    if len(raw) < length:
        raise _Problem(f"truncated .npy header ({len(raw)} of {length} bytes)")
    try:
        text = raw.decode(_ENCODING[version])
    except UnicodeDecodeError as e:
        raise _Problem(f".npy header is not {_ENCODING[version]} text ({e.reason} at byte {e.start})") from None
    fields = _parse(text, version)
    shape = _shape(fields["shape"])
    fortran_order = fields["fortran_order"]
    if type(fortran_order) is not bool:
        raise _Problem(f".npy header's fortran_order must be True or False, got {_show(fortran_order)}")
    dtype = _dtype(fields["descr"])
    if dtype.subdtype is not None:  # a sub-array dtype adds its dimensions to the array's, as numpy does
        dtype, shape = dtype.subdtype[0], shape + dtype.subdtype[1]
    if beyond_numpy(shape, dtype.itemsize):
        raise _Problem(f".npy header declares shape {shape} of {dtype}: more than numpy can index")
    offset = len(MAGIC) + 2 + len(length_field) + length
    return NpyHeader(shape, dtype, fortran_order, offset)


def _parse(text: str, version: int) -> dict:
    try:
        fields = ast.literal_eval(text)
    except _PARSE_ERRORS as e:
        fields = None
        if version < 3 and isinstance(e, SyntaxError) and _PY2_LONG.search(text):
            try:
                fields = ast.literal_eval(_PY2_LONG.sub(r"\1", text))
            except _PARSE_ERRORS:
                pass
        if fields is None:
            raise _Problem(f".npy header is not a Python literal ({type(e).__name__}: {_show(str(e))})") from None
    if not isinstance(fields, dict) or set(fields) != _KEYS:
        raise _Problem(f".npy header must be a dictionary with exactly the keys {sorted(_KEYS)}, got "
                       f"{_show(fields)}")
    return fields


def _shape(shape) -> tuple:
    if (not isinstance(shape, tuple) or len(shape) > MAX_DIMENSIONS
            or not all(type(d) is int and d >= 0 for d in shape)):
        raise _Problem(f".npy header's shape must be a tuple of at most {MAX_DIMENSIONS} non-negative integers, "
                       f"got {_show(shape)}")
    return shape


def _dtype(descr) -> np.dtype:
    try:
        with warnings.catch_warnings():  # a deprecated alias ('a') is still the file's dtype, -W error or not
            warnings.simplefilter("ignore")
            dtype = np.lib.format.descr_to_dtype(descr)
    except _DTYPE_ERRORS as e:
        raise _Problem(f".npy header's descr {_show(descr)} is not a dtype ({type(e).__name__}: "
                       f"{_show(str(e))})") from None
    if dtype.hasobject:
        raise _Problem("holds Python objects (pickled data), which are not loaded for safety: loading them "
                       "could run code; save plain numeric arrays")
    return dtype


def _show(value, limit: int = 120) -> str:
    """A value for an error message, cut short: headers are up to 10 kB of anything."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except (RecursionError, ValueError):  # a deeply nested literal, or an int too long to print
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + "..."
