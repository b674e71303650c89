"""Builders for data files, valid and hostile, and a probe for what reading one costs.

Shared by the dataset regression tests and the fuzz suite: small seed files in
every format the readers take (IDX raw and gzip, NPY, NPZ, CSV, PGM, PNG),
headers written by hand so that they can lie (huge declared shapes, parser
traps), and gzip streams built chunk by chunk so that a test can make a bomb
without holding its content.
"""
import gzip
import io
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np

IDX_TYPES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


# ------------------------------------------------------------------ IDX ---
def idx_header(dtype, shape) -> bytes:
    return bytes([0, 0, IDX_TYPES[np.dtype(dtype)], len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_bytes(array: np.ndarray) -> bytes:
    big_endian = array.astype(array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype)
    return idx_header(big_endian.dtype, array.shape) + big_endian.tobytes()


def gzip_stream(head: bytes, zeros: int, chunk: int = 1 << 22) -> bytes:
    """gzip of ``head`` followed by ``zeros`` zero bytes, compressed without ever holding the zeros whole."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as g:
        g.write(head)
        block = bytes(min(chunk, zeros))
        left = zeros
        while left:
            g.write(block[:min(left, len(block))])
            left -= min(left, len(block))
    return out.getvalue()


# ------------------------------------------------------------- NPY / NPZ ---
def npy_bytes(header_text: str, data: bytes = b"", version: int = 1) -> bytes:
    """An .npy file whose header dictionary is ``header_text`` verbatim (so it may be anything)."""
    encoded = header_text.encode("latin1" if version < 3 else "utf-8")
    size = struct.pack("<H", len(encoded)) if version == 1 else struct.pack("<I", len(encoded))
    return b"\x93NUMPY" + bytes([version, 0]) + size + encoded + data


def npy_of(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npz_bytes(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip archive of ``members`` (name → bytes), the way ``numpy.savez`` lays one out."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def header_text(descr="'<f8'", shape="(3,)", fortran="False") -> str:
    return f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, }}\n"


# Headers that numpy's own reader turns into something other than ValueError (TokenError,
# IndentationError, OverflowError, MemoryError, TypeError), found by the hardening audit and the fuzz.
PARSER_TRAPS = {
    "unclosed bracket (TokenError)": "{'descr': '<f8', 'fortran_order': False, 'shape': ((",
    "bad indentation (IndentationError)": "1 2\n    3\n  4\n",
    "dimension beyond int64 (OverflowError)": header_text(shape="(" + "9" * 30 + ",)"),
    "deeply nested expression (MemoryError)": "-" * 9000 + "1",
    "a bool dimension (TypeError)": header_text(shape="(True,)"),
}


# ------------------------------------------------------------------ PGM / PNG ---
def pgm_p5(image: np.ndarray, maxval: int = 255) -> bytes:
    dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
    return b"P5\n%d %d\n%d\n" % (image.shape[1], image.shape[0], maxval) + image.astype(dtype).tobytes()


def pgm_p2(image: np.ndarray, maxval: int = 255) -> bytes:
    rows = "\n".join(" ".join(str(int(v)) for v in row) for row in image)
    return b"P2\n# seed\n%d %d\n%d\n" % (image.shape[1], image.shape[0], maxval) + rows.encode() + b"\n"


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_grey(image: np.ndarray, declared: tuple | None = None) -> bytes:
    """An 8-bit greyscale PNG of ``image``; ``declared`` = (width, height) makes its header lie."""
    height, width = image.shape
    w, h = declared or (width, height)
    raw = b"".join(b"\0" + row.astype(np.uint8).tobytes() for row in image)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def png_of_zeros(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` x ``height`` black pixels: deflate makes it ~1000 times smaller."""
    packer = zlib.compressobj(9)
    row = bytes(width + 1)  # a filter byte, then the pixels
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


# ------------------------------------------------------------------ cost ---
def rss_growth(fn, *args, **kwargs):
    """(result or the exception raised, growth of the peak resident size during the call), for memory that
    tracemalloc does not see (Pillow's, zlib's); None for the growth where /proc cannot measure it."""
    from fuzz_runner import peak_rss_available, reset_peak_rss, peak_rss, current_rss

    if not peak_rss_available():
        return None, None
    before = current_rss()
    reset_peak_rss()
    try:
        result = fn(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the caller checks which exception it was
        result = e
    return result, peak_rss() - before


def peak_memory(fn, *args, **kwargs):
    """(result or the exception raised, peak bytes that Python and numpy allocated during the call)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        try:
            result = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the caller checks which exception it was
            result = e
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
