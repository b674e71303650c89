"""Fetching dataset files: the cache directory, mirrors, SHA-256 checks, atomic downloads.

Standard library only (``urllib``). A download streams into a temporary file
beside its destination, is hashed as it arrives, and is renamed into place
only once its SHA-256 matches, so the cache never holds a partial or
substituted file. Local files are checked against the same hashes before use
(see :func:`verify`).

Environment:

* ``SEQNN_DATASETS_MIRROR``: base URL(s), comma-separated, tried *instead of*
  the built-in mirrors (an in-house mirror, or ``file:///some/dir/`` for an
  air-gapped machine). File names are appended to each base.
* ``XDG_CACHE_HOME``: the cache lives in ``$XDG_CACHE_HOME/seqnn`` when it is
  set (the XDG base-directory rule), else in ``~/.cache/seqnn``.

On a terminal a download shows a progress bar (tqdm) on stderr; elsewhere
(a log file, CI) one line names the URL.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from dataclasses import dataclass

from .file_content import FileContent

MIRROR_ENV = "SEQNN_DATASETS_MIRROR"
_CHUNK = 1 << 20
_TIMEOUT_S = 30
# Dataset files are tens of MB; anything far larger is not the file we asked for.
_MAX_DOWNLOAD_BYTES = 512 << 20


class DownloadError(OSError):
    """No mirror delivered a file whose SHA-256 matches (network down, HTTP error, wrong bytes)."""


@dataclass(frozen=True)
class FileHashes:
    """Known SHA-256s of one dataset file: of the mirrors' ``.gz`` and/or of the uncompressed bytes.

    A file is accepted when its own bytes match ``gz``, or its uncompressed
    bytes match ``raw``. ``raw`` also accepts a file that was recompressed or
    stored uncompressed; ``gz`` alone can only verify the original archive.
    """
    gz: str | None = None
    raw: str | None = None


def cache_dir(name: str) -> str:
    """``$XDG_CACHE_HOME/seqnn/datasets/<name>`` (``~/.cache/...`` without it): where downloads go."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "seqnn", "datasets", name)


def _progress(url: str, total: int | None):
    """A tqdm bar for a download when stderr is a terminal, else None (after one line naming the URL)."""
    if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        print(f"seqnn: downloading {url}", file=sys.stderr, flush=True)
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=url.rsplit("/", 1)[-1],
                file=sys.stderr, leave=False)


def mirrors(defaults: list[str]) -> list[str]:
    """The base URLs to try: ``$SEQNN_DATASETS_MIRROR`` when set, else ``defaults``."""
    override = os.environ.get(MIRROR_ENV, "").strip()
    bases = [b.strip() for b in override.split(",") if b.strip()] if override else list(defaults)
    return [b if b.endswith("/") else b + "/" for b in bases]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify(label: str, file_bytes: bytes, raw_bytes: bytes, expected: FileHashes) -> bool:
    """Check a file against its known hashes; False when there is nothing to check it against.

    ``file_bytes`` are the file as stored, ``raw_bytes`` the same after
    gunzip (the same object for an uncompressed file). Raises ValueError
    naming the file, the expected and the actual SHA-256 on a mismatch.
    """
    compressed = file_bytes is not raw_bytes
    return verify_digests(label, sha256_bytes(file_bytes) if compressed else None, sha256_bytes(raw_bytes),
                          expected)


def verify_digests(label: str, file_sha256: str | None, raw_sha256: str, expected: FileHashes) -> bool:
    """:func:`verify` from SHA-256s already computed: of the stored file when it is compressed (None when
    it is not), and of its uncompressed content."""
    compressed = file_sha256 is not None
    if expected.gz is not None and compressed and file_sha256 == expected.gz:
        return True
    if expected.raw is not None:
        got, want, kind = raw_sha256, expected.raw, "of the uncompressed data"
    elif expected.gz is not None and compressed:
        got, want, kind = file_sha256, expected.gz, "of the .gz file"
    else:
        return False
    if got != want:
        raise ValueError(f"{label}: SHA-256 mismatch: expected {want} ({kind}), got {got}; the file is corrupt, "
                         "truncated or from a different dataset: delete or replace it")
    return True


def content_sha256(path: str, limit: int) -> tuple[str, bool]:
    """(SHA-256 of the file's content, gunzipped if it is gzip; whether it was), reading at most ``limit``
    content bytes: ValueError beyond that, so a small compressed download cannot expand without end."""
    with FileContent.open(path, hash_content=True) as content:
        total = 0
        while chunk := content.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise ValueError(f"more than {limit >> 20} MB once decompressed; not the expected file")
        return content.content_sha256(), content.compressed


def fetch(filename: str, bases: list[str], directory: str, expected: FileHashes,
          dead: set[str] | None = None) -> str:
    """Download ``filename`` from the first base URL that serves it with the right SHA-256.

    The bytes go to a temporary file in ``directory`` and are renamed to
    ``directory/filename`` only after they verify. ``dead`` collects bases
    that could not be reached, so a loader fetching several files tries an
    unreachable host once, not once per file. Returns the final path.

    Raises:
        DownloadError: every mirror failed; the message lists why, per URL.
    """
    import http.client  # imported here: the HTTP stack costs ~15 ms at every `import seqnn` otherwise
    import urllib.error

    dead = set() if dead is None else dead
    os.makedirs(directory, exist_ok=True)
    destination = os.path.join(directory, filename)
    reasons = []
    for base in bases:
        url = base + filename
        if base in dead:
            reasons.append(f"{url}: skipped (host unreachable)")
            continue
        try:
            _download_verified(url, destination, expected)
            return destination
        except urllib.error.HTTPError as e:
            reasons.append(f"{url}: HTTP {e.code} {e.reason}")
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", None) or e
            reasons.append(f"{url}: {reason}")
            if not isinstance(reason, FileNotFoundError):  # a missing file:// entry says nothing of the others
                dead.add(base)
        except ValueError as e:  # wrong bytes (hash mismatch, damaged gzip) or a malformed URL
            reasons.append(f"{url}: {e}")
    raise DownloadError("; ".join(reasons) or "no mirrors configured")


def _download_verified(url: str, destination: str, expected: FileHashes) -> None:
    if expected.gz is None and expected.raw is None:
        raise ValueError("no known SHA-256 to verify a download against")
    import urllib.request

    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(destination)}.", suffix=".part",
                               dir=os.path.dirname(destination))
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length") if getattr(response, "headers", None) else None
            bar = _progress(url, int(length) if length and length.isdigit() else None)
            try:
                while chunk := response.read(_CHUNK):
                    size += len(chunk)
                    if size > _MAX_DOWNLOAD_BYTES:
                        raise ValueError(f"more than {_MAX_DOWNLOAD_BYTES >> 20} MB; not the expected file")
                    digest.update(chunk)
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
            out.flush()
            os.fsync(out.fileno())
        if expected.gz is None or digest.hexdigest() != expected.gz:
            # Not the known archive: accept it only if its content has the known uncompressed hash.
            raw_sha, compressed = content_sha256(tmp, _MAX_DOWNLOAD_BYTES)
            if not verify_digests("downloaded file", digest.hexdigest() if compressed else None, raw_sha,
                                  FileHashes(raw=expected.raw)):
                raise ValueError(f"SHA-256 mismatch: expected {expected.gz}, got {digest.hexdigest()}")
        os.replace(tmp, destination)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
