"""Datasets: the packaged digits, the strict IDX reader, and MNIST loading from fake IDX files.

Nothing here reads the real MNIST (that is tests/test_mnist.py, marked slow).
"""
import contextlib
import gzip
import hashlib
import importlib.resources
import os
import struct

import numpy as np
import pytest

import seqnn as sn
from seqnn.datasets import digits, mnist
from seqnn.datasets.idx import parse_idx, read_idx

# --------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_values():
    (x, y), (xt, yt) = digits.load_data()
    assert x.shape == (1437, 8, 8) and y.shape == (1437,)
    assert xt.shape == (360, 8, 8) and yt.shape == (360,)
    for a in (x, y, xt, yt):
        assert a.dtype == np.uint8
    assert x.min() == 0 and x.max() == 16 and xt.max() <= 16
    assert set(np.unique(y)) == set(np.unique(yt)) == set(range(10))


def test_digits_split_is_stratified():
    (_, y), (_, yt) = digits.load_data()
    assert np.bincount(yt, minlength=10).tolist() == [36] * 10
    total = np.bincount(y, minlength=10) + 36
    assert total.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # the UCI test file's counts
    assert np.all(np.abs(36 / total - 0.2) < 0.01)


def test_digits_split_is_fixed_and_independent_of_the_global_seed():
    sn.utils.set_random_seed(1)
    first = digits.load_data()
    sn.utils.set_random_seed(2)
    np.random.seed(3)
    second = digits.load_data()
    for a, b in zip((*first[0], *first[1]), (*second[0], *second[1])):
        np.testing.assert_array_equal(a, b)
    # the same bytes on every machine and numpy version: the split uses no random numbers
    h = hashlib.sha256()
    for a in (*first[0], *first[1]):
        h.update(a.tobytes())
    assert h.hexdigest() == "1ce88473da1ee63e74079ef764a1ff502fb7af439f2450924d7da3c7c4952968"


def test_digits_returns_fresh_arrays():
    (x, _), _ = digits.load_data()
    x[:] = 99
    (again, _), _ = digits.load_data()
    assert again.max() == 16


def test_test_mask_spreads_the_test_samples_through_each_class():
    y = np.repeat(np.arange(10), 72)          # 72 per class → every other sample is a test sample
    mask = digits.test_mask(y)
    assert mask.sum() == 360
    np.testing.assert_array_equal(mask[:72], np.arange(72) % 2 == 1)


def test_digits_match_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    ref = datasets.load_digits()
    ref_x, ref_y = ref.images.astype(np.uint8), ref.target.astype(np.uint8)
    (x, y), (xt, yt) = digits.load_data()
    ours = np.concatenate([np.concatenate([x, xt]).reshape(-1, 64), np.concatenate([y, yt])[:, None]], axis=1)
    theirs = np.concatenate([ref_x.reshape(-1, 64), ref_y[:, None]], axis=1)
    # the same samples with the same labels, as a multiset of rows
    np.testing.assert_array_equal(np.unique(ours, axis=0, return_counts=True)[1],
                                  np.unique(theirs, axis=0, return_counts=True)[1])
    np.testing.assert_array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))
    # and the documented rule applied to scikit-learn's order gives exactly our split
    mask = digits.test_mask(ref_y)
    np.testing.assert_array_equal(ref_x[mask], xt)
    np.testing.assert_array_equal(ref_y[~mask], y)


def test_digits_readme_states_the_checked_hash():
    readme = importlib.resources.files("seqnn.datasets").joinpath("data", "README.md").read_text("utf-8")
    blob = digits._DATA_FILE.read_bytes()
    assert hashlib.sha256(blob).hexdigest() == digits._SHA256
    assert digits._SHA256 in readme and "CC BY 4.0" in readme


@pytest.mark.parametrize("damage", ["flip", "truncate", "append", "empty"])
def test_digits_damaged_file_raises_value_error(tmp_path, monkeypatch, damage):
    blob = bytearray(digits._DATA_FILE.read_bytes())
    if damage == "flip":
        blob[len(blob) // 2] ^= 0x01
    elif damage == "truncate":
        del blob[-100:]
    elif damage == "append":
        blob += b"\0"
    else:
        blob = bytearray()
    bad = tmp_path / "digits.bin.gz"
    bad.write_bytes(bytes(blob))
    monkeypatch.setattr(digits, "_DATA_FILE", bad)
    with pytest.raises(ValueError, match=r"corrupt.*SHA-256"):
        digits.load_data()


# --------------------------------------------------------------------------- IDX reader

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
          np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
    """An IDX file's bytes for ``a`` (stored big-endian, as the format requires)."""
    a = np.asarray(a)
    big = a.astype(a.dtype.newbyteorder(">")) if a.dtype.itemsize > 1 else a
    header = bytes([0, 0, _CODES[big.dtype], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + big.tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips(tmp_path, dtype, compress):
    a = (np.arange(2 * 3 * 4).reshape(2, 3, 4) - 5).astype(dtype)
    raw = idx_bytes(a)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = read_idx(path)
    assert out.shape == a.shape and out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


def test_parse_idx_reads_a_one_dimensional_label_file():
    labels = np.array([3, 1, 4, 1, 5], np.uint8)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels)), labels)


def test_truncated_data_is_refused(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(idx_bytes(np.zeros((4, 5), np.uint8))[:-3])
    with pytest.raises(ValueError, match=r"short\.idx: IDX data truncated: header says shape \(4, 5\)"):
        read_idx(path)


def test_trailing_bytes_are_refused():
    with pytest.raises(ValueError, match="has trailing bytes"):
        parse_idx(idx_bytes(np.zeros((4, 5), np.uint8)) + b"\0", "x.idx")


@pytest.mark.parametrize("raw", [b"", b"\x00", b"\x01\x00\x08\x01" + bytes(8), b"\x00\x00\x07\x01" + bytes(8),
                                 b"\x00\x00\x08\x00", b"PK\x03\x04 not idx at all"])
def test_bad_magic_is_refused(raw):
    with pytest.raises(ValueError, match=r"<bytes>: not an IDX file \(bad magic number"):
        parse_idx(raw)


def test_truncated_header_is_refused():
    with pytest.raises(ValueError, match=r"truncated IDX header \(8 bytes, need 16\)"):
        parse_idx(b"\x00\x00\x08\x03" + bytes(4))


@pytest.mark.parametrize("damage", ["garbage", "cut"])
def test_corrupt_gzip_is_refused(tmp_path, damage):
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8)))
    blob = blob[:10] + b"\xff" * (len(blob) - 10) if damage == "garbage" else blob[:len(blob) // 2]
    path = tmp_path / "bad.gz"
    path.write_bytes(blob)
    with pytest.raises(ValueError, match=r"bad\.gz: corrupt or truncated gzip data"):
        read_idx(path)


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.idx")


# --------------------------------------------------------------------------- MNIST on fake files


def write_fake_mnist(directory, n_train=6, n_test=4, compress=("x_train", "y_train", "x_test", "y_test")):
    """Tiny IDX files with MNIST's names: 5×5 images; gzip for the keys in ``compress``, raw otherwise."""
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 5, 5), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 5, 5), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test, dtype=np.uint8)}
    os.makedirs(directory, exist_ok=True)
    for key, stem in mnist.FILES.items():
        raw = idx_bytes(arrays[key])
        if key in compress:
            (directory / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)
    return arrays


@pytest.fixture
def no_default_locations(tmp_path, monkeypatch):
    """Neither $SEQNN_DATA_DIR nor a real cache under ~ may leak into these tests, nor any download.

    The fake files have no published SHA-256, so the known hashes are cleared
    and every file read warns that it was not verified (see
    :func:`unverified`; hash checking itself is tested in test_datasets_download.py).
    """
    monkeypatch.delenv("SEQNN_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEQNN_DATASETS_MIRROR", (tmp_path / "no-mirror").as_uri())
    monkeypatch.setattr(mnist, "SHA256", {})


@contextlib.contextmanager
def unverified(*stems):
    """Expect exactly one "no known SHA-256" UserWarning per file read, for the files ``stems``, in order,
    each pointing at the caller's line (here), not into seqnn."""
    with pytest.warns(UserWarning) as record:
        yield
    named = [str(w.message).split(": ")[0] for w in record]
    assert [os.path.basename(n).removesuffix(".gz") for n in named] == list(stems), named
    for w in record:
        assert "there is no known SHA-256 for this file, so it was checked structurally but not verified" \
            in str(w.message)
        assert w.filename == __file__


ALL_FILES = tuple(mnist.FILES.values())


@pytest.mark.parametrize("compress", [("x_train", "y_train", "x_test", "y_test"), (), ("x_train", "y_test")])
def test_mnist_loads_fake_files(tmp_path, no_default_locations, compress):
    arrays = write_fake_mnist(tmp_path / "mnist", compress=compress)
    with unverified(*ALL_FILES):
        (x, y), (xt, yt) = mnist.load_data(str(tmp_path / "mnist"))
    for got, key in zip((x, y, xt, yt), ("x_train", "y_train", "x_test", "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


def test_mnist_falls_back_to_the_environment_variable(tmp_path, no_default_locations, monkeypatch):
    arrays = write_fake_mnist(tmp_path / "elsewhere")
    monkeypatch.setenv("SEQNN_DATA_DIR", str(tmp_path / "elsewhere"))
    with unverified(*ALL_FILES):
        (_, y), _ = sn.datasets.mnist.load_data()
    np.testing.assert_array_equal(y, arrays["y_train"])


def test_mnist_not_found_lists_the_files_and_the_places_searched(tmp_path, no_default_locations):
    write_fake_mnist(tmp_path / "partial")
    os.remove(tmp_path / "partial" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(ValueError, match="mnist: files not found") as info:
        mnist.load_data(str(tmp_path / "partial"))
    message = str(info.value)
    for stem in mnist.FILES.values():
        assert stem + ".gz" in message
    assert str(tmp_path / "partial") in message
    assert os.path.join(str(tmp_path / "home"), ".cache", "seqnn", "datasets", "mnist") in message


def test_mnist_mismatched_images_and_labels_are_refused(tmp_path, no_default_locations):
    write_fake_mnist(tmp_path / "m")
    (tmp_path / "m" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8))))
    with unverified(*ALL_FILES), \
            pytest.raises(ValueError, match=r"mnist: train images \(6, 5, 5\) \(.*train-images-idx3-ubyte.gz\) "
                                            r"and labels \(5,\) \(.*train-labels-idx1-ubyte.gz\) do not match"):
        mnist.load_data(str(tmp_path / "m"))


def test_mnist_damaged_file_names_the_file(tmp_path, no_default_locations):
    write_fake_mnist(tmp_path / "m")
    target = tmp_path / "m" / "t10k-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-8])
    # the two training files are read (and warned about) before the damaged one stops the load
    with unverified(*ALL_FILES[:2]), \
            pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        mnist.load_data(str(tmp_path / "m"))


def test_mnist_path_must_be_a_directory_not_kerass_npz_file(tmp_path, no_default_locations):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match=r"path: expected a directory holding mnist's IDX files, got the file .*"
                                         r"mnist\.npz \(a Keras \.npz file loads with seqnn\.datasets\.load_npz\)"):
        mnist.load_data(str(tmp_path / "mnist.npz"))
    (x_train, _), _ = sn.datasets.load_npz(tmp_path / "mnist.npz")
    assert x_train.shape == (2, 28, 28)
