"""MNIST / Fashion-MNIST files: lookup order, downloads (local HTTP server, file:// mirror), SHA-256 checks.

No test touches the network: mirrors are a local HTTP server, a ``file://``
directory, or a closed local port. Known hashes are replaced by the fake
files' hashes where a test needs a file to verify.
"""
import functools
import gzip
import hashlib
import io
import http.server
import os
import re
import struct
import sys
import threading

import numpy as np
import pytest

from seqnn.datasets import download, fashion_mnist, idx_dataset, mnist
from seqnn.datasets.download import FileHashes


def idx_bytes(a: np.ndarray) -> bytes:
    """A uint8 array as an IDX file."""
    return bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.astype(np.uint8).tobytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fake_files(n_train=6, n_test=4, seed=0):
    """{stem: raw IDX bytes} with MNIST's file names, and the arrays they hold."""
    rng = np.random.default_rng(seed)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    return {mnist.FILES[key]: idx_bytes(a) for key, a in arrays.items()}, arrays


def write(directory, raws, compress=True):
    os.makedirs(directory, exist_ok=True)
    for stem, raw in raws.items():
        if compress:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw, mtime=0))
        else:
            (directory / stem).write_bytes(raw)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No $SEQNN_DATA_DIR, a private home (so the cache is empty), and no mirror override."""
    monkeypatch.delenv("SEQNN_DATA_DIR", raising=False)
    monkeypatch.delenv("SEQNN_DATASETS_MIRROR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def fake_mnist(isolated, monkeypatch):
    """Fake files whose gz and raw hashes are the 'published' ones; mirrors point nowhere by default."""
    raws, arrays = fake_files()
    hashes = {stem: FileHashes(gz=sha(gzip.compress(raw, mtime=0)), raw=sha(raw)) for stem, raw in raws.items()}
    monkeypatch.setattr(mnist, "SHA256", hashes)
    monkeypatch.setattr(mnist, "MIRRORS", ["http://127.0.0.1:1/"])  # a closed port: refused at once
    return raws, arrays


@pytest.fixture
def http_mirror(tmp_path):
    """Serve a directory over HTTP on localhost; yields (directory, base URL, list of requested paths)."""
    root = tmp_path / "mirror"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/", requests
    finally:
        server.shutdown()
        server.server_close()


def cache():
    return download.cache_dir("mnist")


def assert_loaded(result, arrays):
    (x, y), (xt, yt) = result
    for got, key in zip((x, y, xt, yt), ("x_train", "y_train", "x_test", "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


# ----------------------------------------------------------------------------- downloads


def test_download_from_http_mirror_fills_the_cache_then_works_offline(fake_mnist, http_mirror, monkeypatch):
    raws, arrays = fake_mnist
    root, url, requests = http_mirror
    write(root, raws)
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    assert_loaded(mnist.load_data(), arrays)
    assert sorted(os.listdir(cache())) == sorted(f"{stem}.gz" for stem in raws)  # no temporary files left
    assert len(requests) == 4
    monkeypatch.setattr(mnist, "MIRRORS", ["http://127.0.0.1:1/"])
    assert_loaded(mnist.load_data(), arrays)  # from the cache, no network needed


def test_the_cache_follows_xdg_cache_home(fake_mnist, http_mirror, tmp_path, monkeypatch):
    raws, arrays = fake_mnist
    root, url, _ = http_mirror
    write(root, raws)
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert_loaded(mnist.load_data(), arrays)
    assert sorted(os.listdir(tmp_path / "xdg" / "seqnn" / "datasets" / "mnist")) == sorted(f"{s}.gz" for s in raws)
    assert not (tmp_path / "home" / ".cache").exists()


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_a_download_shows_a_bar_on_a_terminal_and_a_line_elsewhere(fake_mnist, http_mirror, monkeypatch, terminal):
    raws, arrays = fake_mnist
    root, url, _ = http_mirror
    write(root, raws)
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    err = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert_loaded(mnist.load_data(), arrays)
    text = err.getvalue()
    if terminal:  # tqdm's byte counter for each file, redrawn in place, then cleared
        assert "\r" in text and "train-images-idx3-ubyte.gz" in text and re.search(r"\| [\d.]+k?/[\d.]+k? \[", text)
        assert "seqnn: downloading" not in text
    else:
        assert text.count("seqnn: downloading") == 4 and "\r" not in text


def test_a_failing_mirror_falls_back_to_the_next(fake_mnist, http_mirror, tmp_path, monkeypatch):
    raws, arrays = fake_mnist
    root, url, _ = http_mirror
    write(root / "good", raws)
    (root / "empty").mkdir()
    monkeypatch.setattr(mnist, "MIRRORS", [url + "empty/", "http://127.0.0.1:1/", url + "good/"])
    assert_loaded(mnist.load_data(), arrays)


def test_a_download_with_the_wrong_hash_is_never_kept(fake_mnist, http_mirror, monkeypatch):
    raws, _ = fake_mnist
    root, url, _ = http_mirror
    tampered = dict(raws)
    stem = "train-labels-idx1-ubyte"
    tampered[stem] = idx_bytes(np.full(6, 9, np.uint8))  # a valid IDX file, but not the expected one
    write(root, tampered)
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    with pytest.raises(idx_dataset.DatasetNotFoundError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "SHA-256 mismatch" in message and mnist.SHA256[stem].raw in message and sha(tampered[stem]) in message
    assert f"{stem}.gz" not in os.listdir(cache())
    assert not [name for name in os.listdir(cache()) if name.endswith(".part")]


def test_mirror_environment_variable_with_a_file_url(fake_mnist, tmp_path, monkeypatch):
    raws, arrays = fake_mnist
    write(tmp_path / "offline-copy", raws)
    monkeypatch.setenv("SEQNN_DATASETS_MIRROR", (tmp_path / "offline-copy").as_uri())
    assert_loaded(mnist.load_data(), arrays)
    assert os.path.isfile(os.path.join(cache(), "t10k-images-idx3-ubyte.gz"))


def test_offline_error_says_which_files_to_put_where(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQNN_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(idx_dataset.DatasetNotFoundError, match="mnist: files not found") as info:
        mnist.load_data(str(tmp_path / "given"))
    message = str(info.value)
    assert "127.0.0.1:1" in message  # why the download failed
    for stem in mnist.FILES.values():
        assert f"{stem}.gz" in message
    for place in (tmp_path / "given", tmp_path / "data" / "mnist", tmp_path / "data", cache()):
        assert str(place) in message
    assert "\n" not in message


def test_only_missing_files_are_downloaded(fake_mnist, http_mirror, monkeypatch):
    raws, arrays = fake_mnist
    root, url, requests = http_mirror
    write(root, raws)
    os.makedirs(cache())
    stem = "train-images-idx3-ubyte"
    with open(os.path.join(cache(), stem + ".gz"), "wb") as f:
        f.write(gzip.compress(raws[stem]))
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    assert_loaded(mnist.load_data(), arrays)
    assert len(requests) == 3 and not any(stem in r for r in requests)


# ----------------------------------------------------------------------------- local files


def test_local_file_with_the_wrong_hash_names_the_file_and_both_hashes(fake_mnist, tmp_path):
    raws, _ = fake_mnist
    stem = "t10k-labels-idx1-ubyte"
    wrong = dict(raws, **{stem: idx_bytes(np.zeros(4, np.uint8))})
    write(tmp_path / "m", wrong)
    with pytest.raises(ValueError, match="SHA-256 mismatch") as info:
        mnist.load_data(str(tmp_path / "m"))
    message = str(info.value)
    assert str(tmp_path / "m" / f"{stem}.gz") in message
    assert mnist.SHA256[stem].raw in message and sha(wrong[stem]) in message


@pytest.mark.parametrize("compress", [True, False])
def test_recompressed_or_uncompressed_copies_verify_by_content(fake_mnist, tmp_path, compress):
    raws, arrays = fake_mnist
    directory = tmp_path / "m"
    os.makedirs(directory)
    for stem, raw in raws.items():  # a different gzip stream (level, mtime) from the published one
        if compress:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw, compresslevel=1, mtime=12345))
        else:
            (directory / stem).write_bytes(raw)
    assert_loaded(mnist.load_data(str(directory)), arrays)


def test_truncated_file_is_a_structural_error_not_a_short_array(fake_mnist, tmp_path):
    raws, _ = fake_mnist
    write(tmp_path / "m", raws, compress=False)
    path = tmp_path / "m" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="IDX data truncated"):
        mnist.load_data(str(tmp_path / "m"))


def test_data_dir_subdirectory_is_searched(fake_mnist, tmp_path, monkeypatch):
    raws, arrays = fake_mnist
    write(tmp_path / "data" / "mnist", raws)
    monkeypatch.setenv("SEQNN_DATA_DIR", str(tmp_path / "data"))
    assert_loaded(mnist.load_data(), arrays)


def test_real_hashes_reject_fake_files(isolated, tmp_path):
    raws, _ = fake_files()
    write(tmp_path / "m", raws)
    with pytest.raises(ValueError, match="SHA-256 mismatch.*ba891046e6505d7a"):
        mnist.load_data(str(tmp_path / "m"))


# ----------------------------------------------------------------------------- Fashion-MNIST


@pytest.fixture
def fake_fashion(isolated, monkeypatch):
    raws, arrays = fake_files(seed=1)
    hashes = {stem: FileHashes(gz=sha(gzip.compress(raw, mtime=0))) for stem, raw in raws.items()}
    monkeypatch.setattr(fashion_mnist, "SHA256", hashes)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ["http://127.0.0.1:1/"])
    return raws, arrays


def test_fashion_mnist_loads_from_its_data_dir_subdirectory_not_the_mnist_files(fake_fashion, tmp_path,
                                                                                 monkeypatch):
    raws, arrays = fake_fashion
    write(tmp_path / "data", fake_files(seed=2)[0])  # MNIST-named files in $SEQNN_DATA_DIR itself
    write(tmp_path / "data" / "fashion_mnist", raws)
    monkeypatch.setenv("SEQNN_DATA_DIR", str(tmp_path / "data"))
    assert_loaded(fashion_mnist.load_data(), arrays)


def test_fashion_mnist_gz_with_wrong_hash_is_refused(fake_fashion, tmp_path):
    raws, _ = fake_fashion
    write(tmp_path / "f", raws)
    path = tmp_path / "f" / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(raws["train-labels-idx1-ubyte"], compresslevel=1, mtime=7))
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte\.gz: SHA-256 mismatch.*of the \.gz file"):
        fashion_mnist.load_data(str(tmp_path / "f"))


def test_fashion_mnist_uncompressed_copy_loads_with_a_warning(fake_fashion, tmp_path):
    raws, arrays = fake_fashion
    write(tmp_path / "f", raws, compress=False)
    with pytest.warns(UserWarning, match="only the .gz archive's SHA-256 is published"):
        assert_loaded(fashion_mnist.load_data(str(tmp_path / "f")), arrays)


def test_fashion_mnist_offline_error(isolated, monkeypatch):
    monkeypatch.setenv("SEQNN_DATASETS_MIRROR", "http://127.0.0.1:1/")
    with pytest.raises(ValueError, match="fashion_mnist: files not found.*fashion_mnist"):
        fashion_mnist.load_data()


def test_published_hash_tables_are_complete():
    for module in (mnist, fashion_mnist):
        assert set(module.SHA256) == set(module.FILES.values())
        for hashes in module.SHA256.values():
            assert hashes.gz and len(hashes.gz) == 64
    assert all(len(h.raw) == 64 for h in mnist.SHA256.values())
    assert len(fashion_mnist.CLASS_NAMES) == 10


# ----------------------------------------------------------------------------- helpers


def test_verify_unit():
    raw = b"payload"
    packed = gzip.compress(raw)
    assert download.verify("f", packed, raw, FileHashes(gz=sha(packed)))
    assert download.verify("f", packed, raw, FileHashes(gz="0" * 64, raw=sha(raw)))  # recompressed
    assert not download.verify("f", raw, raw, FileHashes(gz=sha(packed)))  # raw copy, only a gz hash known
    with pytest.raises(ValueError, match="f: SHA-256 mismatch"):
        download.verify("f", raw, raw, FileHashes(raw="0" * 64))


def test_mirror_override_is_comma_separated_and_slash_terminated(monkeypatch):
    monkeypatch.setenv("SEQNN_DATASETS_MIRROR", "http://a/x, file:///b/")
    assert download.mirrors(["http://default/"]) == ["http://a/x/", "file:///b/"]
    monkeypatch.delenv("SEQNN_DATASETS_MIRROR")
    assert download.mirrors(["http://default/"]) == ["http://default/"]


@pytest.mark.slow
def test_real_mnist_files_pass_their_hash_checks(mnist_dir):
    (x, y), (xt, yt) = mnist.load_data(mnist_dir)
    assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    assert np.bincount(yt).tolist()[:3] == [980, 1135, 1032]
