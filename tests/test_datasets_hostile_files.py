"""Data readers against hostile files: tiny files that declare huge arrays, gzip bombs, parser traps.

Each test is the regression test of one hardening fix: before it, the reader
raised something other than ValueError (MemoryError, TokenError, TypeError,
...) or paid memory far beyond the file's content. The contract (DESIGN.md):
a file that cannot be read as what it claims raises ValueError naming the
file and the problem; reading costs about what the data really holds.
"""
import gzip
import zipfile

import numpy as np
import pytest

import seqnn as sn
from cli_helpers import assert_usage_error, in_process
from hostile_files import (PARSER_TRAPS, gzip_stream, header_text, idx_bytes, idx_header, npy_bytes, npz_bytes,
                           peak_memory, pgm_p2, png_grey, png_of_zeros, rss_growth)
from seqnn.cli import images
from seqnn.datasets import BatchLoader, DataFileError, load_csv, load_npz, open_npy
from seqnn.datasets.download import FileHashes
from seqnn.datasets.idx import read_idx
from seqnn.datasets.idx_dataset import read_verified

MB = 1 << 20


def expect_error(fn, path, *fragments):
    """fn() raises ValueError whose message names ``path`` and contains every fragment."""
    with pytest.raises(ValueError) as info:
        fn()
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------------------ IDX ---
def test_idx_header_beyond_int64_is_reported_as_truncated(tmp_path):
    # 2^32-1 x 2^32-1 float64 overflowed int64: "-68719476716 bytes, has trailing bytes"
    path = tmp_path / "huge.idx"
    path.write_bytes(idx_header(">f8", (2**32 - 1, 2**32 - 1)) + bytes(10))
    message = expect_error(lambda: read_idx(path), path, "truncated", f"({12 + (2**32 - 1) ** 2 * 8} bytes)")
    assert "-" not in message.split(":", 1)[1]


def test_gzip_idx_with_a_bomb_behind_its_header_stops_at_the_declared_size(tmp_path):
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip_stream(idx_header(np.uint8, (10,)), 64 * MB))  # ~64 KB on disk
    assert path.stat().st_size < MB
    error, peak = peak_memory(read_idx, path)
    assert isinstance(error, ValueError) and str(path) in str(error) and "trailing" in str(error), error
    assert peak < 4 * MB, peak  # it used to decompress all 64 MB first


def test_dataset_files_are_read_in_bounded_memory_too(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(gzip_stream(idx_header(np.uint8, (10,)), 64 * MB))
    error, peak = peak_memory(read_verified, str(path), FileHashes())
    assert isinstance(error, ValueError) and str(path) in str(error), error
    assert peak < 4 * MB, peak


def test_a_large_valid_gzip_idx_costs_its_array_not_twice_that(tmp_path):
    path = tmp_path / "big-idx3-ubyte.gz"
    path.write_bytes(gzip_stream(idx_header(np.uint8, (1000, 128, 256)), 1000 * 128 * 256))
    array, peak = peak_memory(read_idx, path)
    assert isinstance(array, np.ndarray) and array.shape == (1000, 128, 256) and not array.any()
    assert peak < array.nbytes + 8 * MB, (peak, array.nbytes)  # the raw bytes and a converted copy: 2.4x


def test_gzip_idx_declaring_more_than_deflate_can_hold_is_refused_before_decompressing(tmp_path):
    # deflate expands at most 1032:1; a header claiming more than that is a lie, whatever follows
    path = tmp_path / "liar-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_header(np.uint8, (60000, 1000, 1000)) + bytes(1000)))
    error, peak = peak_memory(read_idx, path)
    assert isinstance(error, ValueError) and str(path) in str(error) and "can hold at most" in str(error), error
    assert peak < MB, peak


def test_empty_idx_array_that_numpy_refuses_names_the_file(tmp_path):
    path = tmp_path / "empty.idx"  # 0 x (2^32-1)^3 float64: no data, yet numpy's "array is too big"
    path.write_bytes(idx_header(">f8", (0, 2**32 - 1, 2**32 - 1, 2**32 - 1)))
    expect_error(lambda: read_idx(path), path, "more than numpy can index")


def test_idx_round_trip_keeps_dtypes_and_native_byte_order(tmp_path):
    for dtype in (np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64):
        array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        for name, data in (("a.idx", idx_bytes(array)), ("a.idx.gz", gzip.compress(idx_bytes(array)))):
            (tmp_path / name).write_bytes(data)
            loaded = read_idx(tmp_path / name)
            assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative and np.array_equal(loaded, array)


# ------------------------------------------------------------------ NPY / NPZ headers ---
@pytest.mark.parametrize("trap", sorted(PARSER_TRAPS))
def test_npy_header_parser_traps_are_value_errors(tmp_path, trap):
    path = tmp_path / "trap.npy"
    path.write_bytes(npy_bytes(PARSER_TRAPS[trap], bytes(64)))
    expect_error(lambda: open_npy(path), path)
    archive = tmp_path / "trap.npz"
    archive.write_bytes(npz_bytes({"x.npy": npy_bytes(PARSER_TRAPS[trap], bytes(64)),
                                   "y.npy": npy_bytes(header_text(shape="(1,)"), bytes(8))}))
    expect_error(lambda: load_npz(archive), archive, "x.npy")


def test_empty_npy_array_that_numpy_refuses_names_the_file(tmp_path):
    path = tmp_path / "empty.npy"  # found by the long fuzz run: (0, 10**18) of complex128
    path.write_bytes(npy_bytes(header_text(descr="'<c16'", shape="(0, 1000000000000000000)")))
    expect_error(lambda: open_npy(path), path, "more than numpy can index")
    archive = tmp_path / "empty.npz"
    archive.write_bytes(npz_bytes({"x.npy": path.read_bytes()}))
    expect_error(lambda: load_npz(archive, x_key="x"), archive, "more than numpy can index")


def test_npz_declaring_a_huge_array_is_refused_without_allocating(tmp_path):
    path = tmp_path / "huge.npz"  # ~500 bytes; numpy's reader raised MemoryError for 72.8 TiB
    path.write_bytes(npz_bytes({"x.npy": npy_bytes(header_text(shape="(10000000000000,)")),
                                "y.npy": npy_bytes(header_text(shape="(1,)"), bytes(8))}))
    assert path.stat().st_size < 600
    error, peak = peak_memory(load_npz, path)
    assert isinstance(error, ValueError) and str(path) in str(error) and "x.npy" in str(error), error
    assert peak < MB, peak


def test_npz_member_shorter_than_its_header_declares_costs_nothing(tmp_path):
    path = tmp_path / "short.npz"  # declares 64 MB, holds none of it: numpy allocated the 64 MB first
    path.write_bytes(npz_bytes({"x.npy": npy_bytes(header_text(shape="(8388608,)")),
                                "y.npy": npy_bytes(header_text(shape="(1,)"), bytes(8))}))
    error, peak = peak_memory(load_npz, path)
    assert isinstance(error, ValueError) and str(path) in str(error), error
    assert peak < MB, peak


def test_npz_with_members_that_share_their_compressed_data_is_refused(tmp_path):
    # an overlapping-entries zip bomb: two directory entries that point at the same deflated bytes
    data = npy_bytes(header_text(shape="(100000,)"), bytes(800000))
    archive = npz_bytes({"x.npy": data, "y.npy": data}, zipfile.ZIP_DEFLATED)
    first = archive.index(b"PK\x01\x02")
    second = archive.index(b"PK\x01\x02", first + 1)
    offset_field = 42  # a central directory entry's local-header offset
    patched = bytearray(archive)
    patched[second + offset_field:second + offset_field + 4] = archive[first + offset_field:first + offset_field + 4]
    path = tmp_path / "shared.npz"
    path.write_bytes(bytes(patched))
    expect_error(lambda: load_npz(path), path, "overlap")


def test_npz_still_reads_what_numpy_writes(tmp_path):
    x, y = np.arange(12, dtype=np.float32).reshape(4, 3), np.array([0, 1, 0, 1])
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    np.savez_compressed(tmp_path / "packed.npz", x_train=x, y_train=y, x_test=x[:2], y_test=y[:2],
                        extra=np.asfortranarray(x))
    xl, yl = load_npz(tmp_path / "plain.npz")
    assert np.array_equal(xl, x) and np.array_equal(yl, y) and xl.dtype == x.dtype
    (xt, yt), (xs, ys) = load_npz(tmp_path / "packed.npz")
    assert np.array_equal(xt, x) and np.array_equal(ys, y[:2])
    extra, none = load_npz(tmp_path / "packed.npz", x_key="extra")
    assert np.array_equal(extra, x) and none is None


def test_zero_dimensional_npy_in_batch_loader_is_a_value_error(tmp_path):
    path = tmp_path / "scalar.npy"
    np.save(path, np.float32(3.0))
    expect_error(lambda: BatchLoader(path), path, "shape ()")  # was TypeError: len() of unsized object


def test_batch_loader_refuses_npy_files_of_non_numbers(tmp_path):
    np.save(tmp_path / "text.npy", np.array(["a", "b"]))
    expect_error(lambda: BatchLoader(tmp_path / "text.npy"), tmp_path / "text.npy", "<U1")
    path = tmp_path / "void.npy"  # V0: 10^18 samples of nothing, which the loader took as data
    path.write_bytes(npy_bytes(header_text(descr="'V0'", shape="(1000000000000000000,)")))
    expect_error(lambda: BatchLoader(path), path, "V0")


def test_data_file_error_is_a_value_error_that_names_the_file(tmp_path):
    path = tmp_path / "bad.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00")
    with pytest.raises(DataFileError) as info:
        open_npy(path)
    assert isinstance(info.value, ValueError) and info.value.path == str(path)


# ------------------------------------------------------------------ the console commands ---
@pytest.fixture
def tiny_model(tmp_path):
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    path = tmp_path / "model.safetensors"
    model.save(path)
    return path


@pytest.mark.parametrize("trap", sorted(PARSER_TRAPS))
def test_predict_reports_a_trapped_npy_header_in_one_line(tmp_path, tiny_model, capsys, trap):
    from seqnn.cli import predict

    path = tmp_path / "x.npy"
    path.write_bytes(npy_bytes(PARSER_TRAPS[trap], bytes(64)))
    assert_usage_error(in_process(predict.main, [str(tiny_model), str(path)], capsys), str(path))
    np.save(tmp_path / "good.npy", np.zeros((2, 3), np.float32))
    np.save(tmp_path / "scalar.npy", np.int64(1))
    assert_usage_error(in_process(predict.main, [str(tiny_model), str(tmp_path / "good.npy"), "--labels",
                                                 str(tmp_path / "scalar.npy")], capsys), "scalar.npy")


def test_train_reports_a_huge_npz_in_one_line(tmp_path, capsys):
    from seqnn.cli import train

    path = tmp_path / "huge.npz"
    path.write_bytes(npz_bytes({"x.npy": npy_bytes(header_text(shape="(10000000000000, 4)")),
                                "y.npy": npy_bytes(header_text(shape="(1,)"), bytes(8))}))
    assert_usage_error(in_process(train.main, ["--data", str(path), "--out", str(tmp_path / "m.safetensors")],
                                  capsys), str(path))


def test_train_names_the_npz_whose_arrays_cannot_be_trained_on(tmp_path, capsys):
    from seqnn.cli import train

    cases = {"text.npz": (np.array(["a", "b", "c", "d"]), np.arange(4)),  # was numpy's UFuncTypeError text
             "nan.npz": (np.array([[0.0], [np.nan], [1.0], [2.0]]), np.arange(4))}  # was "x: contains NaN"
    for name, (x, y) in cases.items():
        np.savez(tmp_path / name, x=x, y=y)
        assert_usage_error(in_process(train.main, ["--data", str(tmp_path / name), "--out",
                                                   str(tmp_path / "m.safetensors")], capsys), str(tmp_path / name))


def test_predict_names_the_input_with_no_samples_or_nan(tmp_path, tiny_model, capsys):
    from seqnn.cli import predict

    np.save(tmp_path / "empty.npy", np.zeros((0, 3), np.float32))  # was "x: predict() got no batches"
    np.save(tmp_path / "nan.npy", np.array([[0, 1, np.inf]], np.float32))  # was "x: contains NaN or inf"
    for name in ("empty.npy", "nan.npy"):
        assert_usage_error(in_process(predict.main, [str(tiny_model), str(tmp_path / name)], capsys),
                           str(tmp_path / name))
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.float32))
    np.savez(tmp_path / "wrong.npz", x=np.zeros((2, 3)), y=np.array([0, 7]))  # a 2-class model
    assert_usage_error(in_process(predict.main, [str(tiny_model), str(tmp_path / "wrong.npz")], capsys),
                       "wrong.npz", "class ids 0..1")


# ------------------------------------------------------------------ CSV ---
@pytest.mark.parametrize("dtype, text", [("float32", "1e300"), ("int8", "300"), ("int64", "9.3e18")])
def test_csv_value_beyond_the_dtype_names_its_line_and_column(tmp_path, dtype, text):
    path = tmp_path / "big.csv"  # found by the long fuzz run: inf, or a wrapped integer, and a RuntimeWarning
    path.write_text(f"a,b\n1,2\n\n3,{text}\n")
    expect_error(lambda: load_csv(path, dtype=dtype), path, "line 4, column 'b'", f"does not fit in {dtype}")


def test_csv_costs_a_few_times_its_size_not_dozens(tmp_path):
    path = tmp_path / "zeros.csv"
    columns = 100
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ("0," * (columns - 1) + "0\n") * 5000)
    x, peak = peak_memory(load_csv, path)
    assert isinstance(x, np.ndarray) and x.shape == (5000, columns)
    assert peak < 8 * path.stat().st_size, (peak, path.stat().st_size)  # a Python float per cell: ~25x


# ------------------------------------------------------------------ images ---
def test_pgm_header_number_too_long_for_int_names_the_file(tmp_path):
    path = tmp_path / "long.pgm"
    path.write_bytes(b"P5 " + b"9" * 5000 + b" 1 255\n\0")  # int() refused it without saying which file
    expect_error(lambda: images.read_pgm(str(path)), path, "width")


def test_p2_pgm_costs_a_few_times_its_size(tmp_path):
    path = tmp_path / "big.pgm"
    path.write_bytes(pgm_p2(np.zeros((500, 1000), np.uint8)))
    image, peak = peak_memory(images.read_pgm, str(path))
    assert isinstance(image, np.ndarray) and image.shape == (500, 1000)
    assert peak < 4 * path.stat().st_size, (peak, path.stat().st_size)  # one bytes object per value: ~20x


def test_png_declaring_a_decompression_bomb_is_a_value_error(tmp_path):
    pytest.importorskip("PIL")
    path = tmp_path / "bomb.png"  # 100,000 x 100,000 pixels declared: Pillow's DecompressionBombError escaped
    path.write_bytes(png_grey(np.zeros((2, 2), np.uint8), declared=(100_000, 100_000)))
    expect_error(lambda: images.read_image(str(path)), path, "pixels")


def test_image_larger_than_the_model_takes_is_refused_before_decoding(tmp_path, tiny_model, capsys):
    pytest.importorskip("PIL")
    from seqnn.cli import predict

    path = tmp_path / "zeros.png"  # 64 kB of file, 64 MB of pixels, under Pillow's limit: it was decoded
    path.write_bytes(png_of_zeros(8000, 8000))
    assert path.stat().st_size < 128 << 10
    error, growth = rss_growth(images.read_image, str(path), None, 784)
    assert isinstance(error, ValueError) and "wrong shape for this model" in str(error), error
    if growth is not None:
        assert growth < 16 * MB, growth
    line = assert_usage_error(in_process(predict.main, [str(tiny_model), str(path)], capsys), str(path))
    assert "8000x8000" in line and "takes 3 pixels" in line


def test_webp_canvas_is_checked_before_pillow_opens_the_file(tmp_path, monkeypatch):
    Image = pytest.importorskip("PIL.Image")
    buffer = __import__("io").BytesIO()
    Image.fromarray(np.zeros((2, 2, 4), np.uint8)).save(buffer, "WEBP", exif=b"Exif\0\0seqnn")
    data = bytearray(buffer.getvalue())
    assert data[12:16] == b"VP8X"
    data[24:30] = (3999).to_bytes(3, "little") + (3999).to_bytes(3, "little")  # a 4000x4000 canvas
    path = tmp_path / "canvas.webp"  # 100 bytes whose decoder allocates 2 x 64 MB when Pillow opens it
    path.write_bytes(bytes(data))
    opened = []
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a) or pytest.fail("opened"))
    expect_error(lambda: images.read_image(str(path), None, 784), path, "4000x4000")
    assert not opened


def test_png_that_pillow_cannot_decode_is_a_value_error(tmp_path):
    pytest.importorskip("PIL")
    path = tmp_path / "short.png"  # the header promises 64x64 pixels, the data holds 2x2
    path.write_bytes(png_grey(np.zeros((2, 2), np.uint8), declared=(64, 64)))
    expect_error(lambda: images.read_image(str(path)), path)
