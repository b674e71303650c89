"""Image datasets stored as four IDX files (MNIST's layout): find, download, verify, read.

Shared by :mod:`~seqnn.datasets.mnist` and :mod:`~seqnn.datasets.fashion_mnist`.
The files (``.gz`` or uncompressed) are looked up in, in order:

1. the ``path`` given to ``load_data``;
2. ``$SEQNN_DATA_DIR/<name>`` (and, for MNIST only, ``$SEQNN_DATA_DIR``
   itself: Fashion-MNIST's files have the same names as MNIST's);
3. the cache, ``$XDG_CACHE_HOME/seqnn/datasets/<name>`` (``~/.cache/seqnn/...`` without it).

The first directory that holds all four is used. When none does, the
missing files are downloaded into the cache (see :mod:`.download`); without a
network the error says which files to put where. Every file is checked
strictly (IDX structure, then SHA-256) before its array is returned.
"""
from __future__ import annotations

import os

import numpy as np

from .. import user_warnings
from ..errors import UserInputError
from . import download
from .download import FileHashes
from .file_content import FileContent
from .idx import read_idx_content

DATA_DIR_ENV = "SEQNN_DATA_DIR"
KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetNotFoundError(UserInputError, ValueError):
    """A dataset's files are not on disk and could not be downloaded."""


def candidate_dirs(name: str, path: str | os.PathLike | None, data_dir_itself: bool,
                   subdirs: tuple[str, ...] = ()) -> list[str]:
    """The directories searched, in order (see the module docstring)."""
    if path and os.path.isfile(path):
        raise ValueError(f"path: expected a directory holding {name}'s IDX files, got the file {os.fspath(path)} "
                         "(a Keras .npz file loads with seqnn.datasets.load_npz)")
    found = [os.fspath(path)] if path else []
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        found += [os.path.join(env, sub) for sub in (name, *subdirs)]
        if data_dir_itself:
            found.append(env)
    found.append(download.cache_dir(name))
    return list(dict.fromkeys(found))


def locate(directory: str, stem: str) -> str | None:
    """``directory/stem.gz`` or ``directory/stem``, whichever exists (gzip first)."""
    for candidate in (stem + ".gz", stem):
        full = os.path.join(directory, candidate)
        if os.path.isfile(full):
            return full
    return None


def load(name: str, files: dict[str, str], hashes: dict[str, FileHashes], mirrors: list[str],
         path: str | os.PathLike | None, data_dir_itself: bool = False, subdirs: tuple[str, ...] = ()):
    """``((x_train, y_train), (x_test, y_test))`` from the four IDX files ``files`` (key → file stem)."""
    dirs = candidate_dirs(name, path, data_dir_itself, subdirs)
    directory = next((d for d in dirs if all(locate(d, stem) for stem in files.values())), None)
    if directory is None:
        directory = _download_missing(name, files, hashes, mirrors, dirs)
    paths = {key: locate(directory, stem) for key, stem in files.items()}
    arrays = {key: read_verified(paths[key], hashes.get(stem, FileHashes())) for key, stem in files.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{name}: {split} images {x.shape} ({paths[f'x_{split}']}) and labels {y.shape} "
                             f"({paths[f'y_{split}']}) do not match")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def read_verified(path: str, expected: FileHashes) -> np.ndarray:
    """The array in one IDX file, after its structure and its SHA-256 check out (ValueError otherwise).

    The content is hashed as it is decompressed into the array, so a file costs its array once, whatever
    it decompresses to (see :mod:`.file_content`).
    """
    with FileContent.open(path, hash_content=True) as content:
        array = read_idx_content(content)  # structural errors (truncation, bad header) are the more precise message
        raw_sha, compressed = content.content_sha256(), content.compressed
    file_sha = download.sha256_file(path) if compressed else None
    if not download.verify_digests(path, file_sha, raw_sha, expected):
        why = ("only the .gz archive's SHA-256 is published, so this uncompressed copy" if expected.gz
               else "there is no known SHA-256 for this file, so it")
        user_warnings.warn(f"{path}: {why} was checked structurally but not verified")
    return array


def _download_missing(name, files, hashes, mirrors, dirs) -> str:
    cache = download.cache_dir(name)
    bases, dead = download.mirrors(mirrors), set()
    try:
        for stem in files.values():
            if locate(cache, stem) is None:
                download.fetch(stem + ".gz", bases, cache, hashes.get(stem, FileHashes()), dead)
    except (download.DownloadError, OSError) as e:
        listing = ", ".join(f"{stem}.gz" for stem in files.values())
        raise DatasetNotFoundError(
            f"{name}: files not found, and downloading them failed ({e}). Put {listing} (gzip or raw) in "
            f"one of: {'; '.join(dirs)} (or set {DATA_DIR_ENV}, or {download.MIRROR_ENV} to a reachable "
            "mirror)") from None
    return cache
