"""Reading one image as a numpy array: PGM (built in), PNG / JPEG / others through Pillow (optional).

PGM (``P2`` text or ``P5`` binary, 8- or 16-bit) is parsed here, strictly:
a truncated file or a bad header is a ValueError naming the file. Other
formats need Pillow (``pip install seqnn[images]``). Pixel values are
returned as stored (0..maxval); the model's own Rescaling expects the range
of the data it was trained on (0..255 for MNIST).
"""
from __future__ import annotations

import os

import numpy as np

PGM_EXTENSIONS = (".pgm", ".pnm")
PILLOW_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_image(path: str, channels: int | None = None) -> np.ndarray:
    """One image: (height, width) for grey, (height, width, channels) when ``channels`` asks for colour."""
    ext = os.path.splitext(path)[1].lower()
    if ext in PGM_EXTENSIONS:
        image = read_pgm(path)
        return image if channels in (None, 1) else np.repeat(image[..., None], channels, axis=-1)
    return _read_with_pillow(path, channels)


def read_pgm(path: str) -> np.ndarray:
    """A PGM image (P2 or P5) as uint8 (maxval < 256) or uint16, shape (height, width)."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = blob[:2]
    if magic not in (b"P2", b"P5"):
        raise ValueError(f"{path}: not a PGM image (expected magic P2 or P5, got {magic!r})")
    fields, pos = [], 2
    while len(fields) < 3:  # width, height, maxval; '#' starts a comment up to the end of the line
        pos = _skip_space_and_comments(blob, pos)
        start = pos
        while pos < len(blob) and blob[pos:pos + 1].isdigit():
            pos += 1
        if start == pos:
            raise ValueError(f"{path}: bad PGM header (expected width, height and maxval)")
        fields.append(int(blob[start:pos]))
    width, height, maxval = fields
    if width <= 0 or height <= 0 or not 0 < maxval < 65536:
        raise ValueError(f"{path}: bad PGM header: width {width}, height {height}, maxval {maxval}")
    dtype = np.uint8 if maxval < 256 else np.dtype(">u2")
    count = width * height
    if magic == b"P5":
        if pos >= len(blob) or not blob[pos:pos + 1].isspace():
            raise ValueError(f"{path}: bad PGM header (no whitespace before the pixel data)")
        data = blob[pos + 1:]
        need = count * np.dtype(dtype).itemsize
        if len(data) < need:
            raise ValueError(f"{path}: truncated PGM: {width}x{height} needs {need} bytes of pixels, "
                             f"found {len(data)}")
        pixels = np.frombuffer(data, dtype, count=count)
    else:
        try:
            values = [int(v) for v in blob[pos:].split()]
        except ValueError:
            raise ValueError(f"{path}: a P2 PGM must hold whitespace-separated integers") from None
        if len(values) < count:
            raise ValueError(f"{path}: truncated PGM: {width}x{height} needs {count} values, found {len(values)}")
        pixels = np.array(values[:count], dtype=np.int64)
    if pixels.min(initial=0) < 0 or pixels.max(initial=0) > maxval:
        raise ValueError(f"{path}: pixel values must be in 0..{maxval} (the header's maxval), got "
                         f"{int(pixels.min())}..{int(pixels.max())}")
    return pixels.astype(np.uint8 if maxval < 256 else np.uint16).reshape(height, width)


def _skip_space_and_comments(blob: bytes, pos: int) -> int:
    while pos < len(blob):
        if blob[pos:pos + 1].isspace():
            pos += 1
        elif blob[pos:pos + 1] == b"#":
            end = blob.find(b"\n", pos)
            pos = len(blob) if end < 0 else end + 1
        else:
            break
    return pos


def _read_with_pillow(path: str, channels: int | None) -> np.ndarray:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise ValueError(f"{path}: reading {os.path.splitext(path)[1] or 'this'} images needs Pillow: "
                         "pip install 'seqnn[images]' (or convert the image to PGM)") from None
    try:
        with Image.open(path) as image:
            mode = "L" if channels in (None, 1) else "RGB"
            array = np.asarray(image.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(f"{path}: not a readable image ({e})") from None
    return array if channels in (None, 1) else array[..., :channels]
