"""Reading one image as a numpy array: PGM (built in, :mod:`.pgm`), PNG / JPEG / others through Pillow.

Formats other than PGM need Pillow (``pip install Pillow``, or the ``images`` extra). Whatever
Pillow raises for bad bytes becomes a :class:`~seqnn.datasets.DataFileError`
naming the file, and an image that declares more pixels than the caller can
use (``max_pixels``: the model's input) or than Pillow's limit for untrusted
files is refused before it is decoded: a compressed image of a few bytes can
declare millions of pixels. Pixel values are returned as stored (0..maxval);
the model's own Rescaling expects the range of the data it was trained on
(0..255 for MNIST).
"""
from __future__ import annotations

import os
import struct

import numpy as np

from .._optional import install_hint

from ..datasets.errors import DataFileError
from .pgm import read_pgm

PGM_EXTENSIONS = (".pgm", ".pnm")
PILLOW_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def read_image(path: str, channels: int | None = None, max_pixels: int | None = None) -> np.ndarray:
    """One image: (height, width) for grey, (height, width, channels) when ``channels`` asks for colour.

    ``max_pixels``: refuse, before decoding, an image with more pixels than
    that (what the model that will read it takes: a compressed image can
    declare far more pixels than its file holds bytes). Without it, images
    are decoded up to Pillow's limit for untrusted files.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext in PGM_EXTENSIONS:
        image = read_pgm(path)
        return image if channels in (None, 1) else np.repeat(image[..., None], channels, axis=-1)
    return _read_with_pillow(path, channels, max_pixels)


def _read_with_pillow(path: str, channels: int | None, max_pixels: int | None) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        raise ValueError(f"{path}: reading {os.path.splitext(path)[1] or 'such'} images needs Pillow, or convert "
                         f"the image to PGM; {install_hint('Pillow', 'images')}") from None
    webp = _webp_size(path)
    if webp is not None:  # Pillow's WebP decoder allocates its canvas when the file is opened
        _check_pixel_count(webp, Image.MAX_IMAGE_PIXELS, max_pixels, path)
    try:
        with Image.open(path) as image:
            _check_pixel_count(image.size, Image.MAX_IMAGE_PIXELS, max_pixels, path)
            mode = "L" if channels in (None, 1) else "RGB"
            array = np.asarray(image.convert(mode))
    except (DataFileError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError):
        raise
    except Exception as e:  # noqa: BLE001
        # Pillow's decoders raise what each one meets in bad bytes: OSError, SyntaxError, ValueError,
        # struct.error, EOFError, IndexError, DecompressionBombError... Whatever it is, the file is not an
        # image Pillow can read, and the contract is one ValueError naming it.
        raise DataFileError(path, f"not a readable image ({type(e).__name__}: {_short(str(e))})") from None
    return array if channels in (None, 1) else array[..., :channels]


def _check_pixel_count(size: tuple, pillow_limit: int | None, max_pixels: int | None, path: str) -> None:
    """Refuse, before decoding, more pixels than the caller can use or than Pillow's own limit for
    untrusted images (Pillow only warns up to twice it): a few bytes of header must not cost megabytes."""
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise DataFileError(path, "more pixels than the model takes",
                            f"{path}: wrong shape for this model: the image is {width}x{height} "
                            f"({width * height} pixels), the model takes {max_pixels} pixels a sample")
    if pillow_limit and width * height > pillow_limit:
        raise DataFileError(path, f"declares {width}x{height} pixels, more than the {pillow_limit} that Pillow "
                                  "decodes from untrusted files (PIL.Image.MAX_IMAGE_PIXELS)")


def _webp_size(path: str) -> tuple[int, int] | None:
    """(width, height) that a WebP file declares, read from its first chunk; None for other files."""
    with open(path, "rb") as f:
        head = f.read(30)
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":  # the extended format: a canvas of 24-bit (width - 1) and (height - 1)
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L":  # lossless: 14-bit (width - 1) and (height - 1) after the signature byte
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":  # lossy: 14-bit width and height after the frame tag and the start code
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
