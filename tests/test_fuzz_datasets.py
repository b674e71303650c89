"""Fuzzing every data reader: a correct load, or a ValueError naming the file; nothing else, ever.

Readers: IDX (raw, and gzip with bombs among the seeds), CSV (``load_csv``),
NPY (``open_npy``), ``BatchLoader`` over ``.npy`` memory maps, NPZ
(``load_npz``), PGM (``read_pgm``), the Pillow formats (``read_image``; needs
Pillow), and the NPY header grammar through hypothesis. Seeds are small valid
files made here; each case applies blind and format-aware mutations (see
:mod:`fuzz_mutations`) and is judged by :mod:`fuzz_runner`: no other
exception, no hang, no memory far beyond the file's content.

The console command ``seqnn-predict`` is fuzzed the same way on every input
type it reads: it must exit 0, or 2 with one line naming the file.

The default run does 150 cases per reader (seconds). The long run
(``pytest -m long tests/test_fuzz_datasets.py``) does ``SEQNN_FUZZ_CASES``
(default 100,000) per reader and a twentieth of that per input type of the
command, saves failing files under ``SEQNN_FUZZ_OUT`` (default: the test's
temporary directory) and writes its counts to ``fuzz-summary.json`` there.
"""
import io
import json
import os
import warnings
import zipfile
import zlib
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_mutations as M
from fuzz_runner import Reader, run
from hostile_files import gzip_stream, idx_bytes, idx_header, npy_bytes, npy_of, npz_bytes, pgm_p2, pgm_p5, png_grey
from seqnn.cli import images
from seqnn.datasets import BatchLoader, load_csv, load_npz, open_npy
from seqnn.datasets.download import FileHashes
from seqnn.datasets.idx import read_idx
from seqnn.datasets.idx_dataset import read_verified

SHORT_CASES = 150
LONG_CASES = int(os.environ.get("SEQNN_FUZZ_CASES", "100000"))


# ------------------------------------------------------------------ seeds ---
def idx_seeds() -> list:
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (5, 4, 3), dtype=np.uint8), rng.integers(0, 10, 7, dtype=np.uint8),
              rng.integers(-99, 99, (3, 2)).astype(np.int16), rng.normal(size=(2, 2, 2)).astype(np.float32),
              rng.normal(size=3), rng.integers(-5, 5, (4, 1)).astype(np.int8),
              rng.integers(-9, 9, (2, 3)).astype(np.int32), np.zeros((0, 4), np.uint8)]
    return [idx_bytes(a) for a in arrays]


def gzip_bombs() -> list:
    """Small gzip files that expand far: a bomb behind a small header, a valid 4 MB array, and a header
    that declares 64 MB over a 1 MB stream (a cost of about what the stream holds, not what it declares)."""
    return [gzip_stream(idx_header(np.uint8, (10,)), 4 << 20),
            gzip_stream(idx_header(np.uint8, (4, 1024, 1024)), 4 << 20),
            gzip_stream(idx_header(np.uint8, (64, 1024, 1024)), 1 << 20)]


def csv_seeds() -> list:
    return [b"a,b,label\n1,2.5,0\n3,-4e-3,1\n5,6,2\n",
            b"\xef\xbb\xbfx1;x2\n1;2\n",  # a BOM, and not the delimiter it expects
            b"id,f,label\nq1,1.0,1\nq2,2.0,0\n",
            b'"a","b","label"\n"1","2","3"\n\n4,5,6\n',
            b"f0,f1,f2,f3,label\n" + b"".join(b"%d,%d,%d,%d,%d\n" % (i, -i, 2 * i, i % 3, i % 2) for i in range(20))]


def npy_seeds() -> list:
    arrays = [np.arange(12, dtype=np.float32).reshape(4, 3), np.arange(20, dtype=np.uint8).reshape(5, 2, 2),
              np.arange(6), np.array([True, False, True]), np.asfortranarray(np.arange(12.0).reshape(3, 4)),
              np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]), np.array(["ab", "c"]), np.float64(2.0),
              np.zeros((0, 3), np.float32), np.array([1 + 2j]), np.array(["2020-01-01"], dtype="M8[s]")]
    seeds = [npy_of(a) for a in arrays]
    for version in ((2, 0), (3, 0)):
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, arrays[0], version=version)
        seeds.append(buffer.getvalue())
    return seeds


def npz_seeds() -> list:
    x, y = np.arange(12, dtype=np.float32).reshape(4, 3), np.array([0, 1, 0, 1])
    seeds = []
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        seeds.append(npz_bytes({"x.npy": npy_of(x), "y.npy": npy_of(y)}, compression))
        seeds.append(npz_bytes({"x_train.npy": npy_of(x), "y_train.npy": npy_of(y), "x_test.npy": npy_of(x[:2]),
                                "y_test.npy": npy_of(y[:2])}, compression))
    seeds.append(npz_bytes({"x.npy": npy_of(np.asfortranarray(x)), "y.npy": npy_of(y.astype(np.uint8)),
                            "note": npy_of(np.array(["text"]))}))
    seeds.append(npz_bytes({}))
    return seeds


def pgm_seeds() -> list:
    image = np.arange(30).reshape(5, 6) * 8
    return [pgm_p5(image), pgm_p5(image * 200, maxval=65535), pgm_p2(image), pgm_p2(image * 100, maxval=4095),
            b"P5 2 1 255 \x00\xff"]


def pillow_seeds() -> list:
    """PNG made by hand; with Pillow, the other formats it reads too (as ``(suffix, bytes)``)."""
    image = (np.arange(64).reshape(8, 8) * 4).astype(np.uint8)
    seeds = [(".png", png_grey(image))]
    try:
        from PIL import Image
    except ImportError:
        return seeds
    rgb = np.stack([image, image[::-1], image.T], axis=-1)
    for suffix, fmt, img in [(".png", "PNG", Image.fromarray(rgb)), (".gif", "GIF", Image.fromarray(image)),
                             (".bmp", "BMP", Image.fromarray(rgb)), (".jpg", "JPEG", Image.fromarray(rgb)),
                             (".tif", "TIFF", Image.fromarray(image)), (".png", "PNG", Image.fromarray(image > 99)),
                             (".webp", "WEBP", Image.fromarray(rgb))]:
        buffer = io.BytesIO()
        try:
            img.save(buffer, fmt)
        except (OSError, KeyError):  # a Pillow built without this codec
            continue
        seeds.append((suffix, buffer.getvalue()))
    return seeds


# ------------------------------------------------------------------ mutators ---
def mutate_idx_raw(data, rng, seeds):
    choice = rng.random()
    if choice < 0.4:
        return M.idx_edit(data, rng) if rng.random() < 0.7 else M.blind(M.idx_edit(data, rng), rng, 1)
    if choice < 0.5:
        return M.splice(data, rng.choice(seeds), rng)
    return M.blind(data, rng)


def mutate_idx_gz(data, rng, seeds):
    if data[:2] == b"\x1f\x8b":  # a bomb seed: edit its compressed stream blindly, or keep it as it is
        return M.blind(data, rng, 1) if rng.random() < 0.5 else data
    choice = rng.random()
    if choice < 0.6:  # mutate the content, then compress: the IDX reader behind gzip meets the lie
        return M.gzip_of(mutate_idx_raw(data, rng, seeds), rng)
    if choice < 0.7:
        return M.gzip_of(data, rng) + M.gzip_of(rng.choice(seeds), rng)[:rng.randrange(64)]  # a second member
    return M.blind(M.gzip_of(data, rng), rng)


def mutate_csv(data, rng, seeds):
    out = M.csv_edit(data, rng)
    return M.csv_edit(out, rng) if rng.random() < 0.3 else out


def mutate_npy(data, rng, seeds):
    return M.npy_edit(data, rng) if rng.random() < 0.6 else M.blind(data, rng)


def mutate_npz(data, rng, seeds):
    choice = rng.random()
    if choice < 0.3:  # a member with a mutated .npy file, packed the way numpy packs them
        members = {"x.npy": M.npy_edit(rng.choice(npy_seeds()), rng), "y.npy": npy_of(np.arange(4) % 2)}
        if rng.random() < 0.3:
            members["x_train.npy"] = members["x.npy"]
        return npz_bytes(members, rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    if choice < 0.65:
        out = M.zip_edit(data, rng)
        return M.zip_edit(out, rng) if rng.random() < 0.3 else out
    return M.blind(data, rng)


def mutate_pgm(data, rng, seeds):
    return M.pgm_edit(data, rng) if rng.random() < 0.5 else M.blind(data, rng)


def mutate_png(data, rng, seeds):
    return M.png_edit(data, rng) if rng.random() < 0.5 else M.blind(data, rng)


# ------------------------------------------------------------------ reading ---
def read_idx_either(path):
    """read_idx, or the dataset loader's read_verified (a quarter of the cases), which hashes as it reads."""
    if os.path.getsize(path) % 4 == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "checked structurally but not verified"
            return read_verified(path, FileHashes())
    return read_idx(path)


def read_csv_somehow(path):
    target = {0: None, 1: "label", 2: -1}[os.path.getsize(path) % 3]
    return load_csv(path, target=target)


def read_npy(path):
    array = open_npy(path)
    if array.size and array.dtype.itemsize:  # touch the first and last element: the map must cover them
        flat = array.reshape(-1)
        return np.array(flat[:1]), np.array(flat[-1:])
    return array


def batch_loader_reader(y_path):
    def read(path):
        loader = BatchLoader(path, y_path if os.path.getsize(path) % 2 else None, batch_size=3, seed=0)
        return [batch for batch in loader][-1]
    return read


def read_npz(path):
    if os.path.getsize(path) % 3 == 0:
        return load_npz(path, x_key="x")
    return load_npz(path)


def read_pgm(path):
    return images.read_image(path, channels=3) if os.path.getsize(path) % 2 else images.read_pgm(path)


def read_pillow(path):
    """As seqnn-predict reads an image: no more pixels than the model takes (here 64x64)."""
    return images.read_image(path, channels=3 if os.path.getsize(path) % 2 else None, max_pixels=64 * 64)


def gunzipped_size(data: bytes, limit: int = 1 << 30) -> int:
    """How many bytes gzip data really decompresses to (every member, up to where it breaks)."""
    total, rest = 0, data
    while rest[:2] == b"\x1f\x8b" and total < limit:
        stream = zlib.decompressobj(31)
        try:
            while rest and not stream.eof and total < limit:
                total += len(stream.decompress(rest, 1 << 20))
                rest = stream.unconsumed_tail
        except zlib.error:
            break
        if not stream.eof:
            break
        rest = stream.unused_data
    return max(total, len(data))


def readers(tmp_dir) -> dict:
    y_path = os.path.join(tmp_dir, "labels.npy")
    os.makedirs(tmp_dir, exist_ok=True)
    np.save(y_path, np.arange(4))
    gz_seeds = idx_seeds() + gzip_bombs()
    return {
        "idx_raw": Reader("idx_raw", "-idx3-ubyte", idx_seeds(), mutate_idx_raw, read_idx_either),
        "idx_gz": Reader("idx_gz", "-idx3-ubyte.gz", gz_seeds, mutate_idx_gz, read_idx_either,
                         content_size=gunzipped_size),
        "csv": Reader("csv", ".csv", csv_seeds(), mutate_csv, read_csv_somehow),
        "npy": Reader("npy", ".npy", npy_seeds(), mutate_npy, read_npy),
        "batch_loader": Reader("batch_loader", ".npy", npy_seeds(), mutate_npy, batch_loader_reader(y_path)),
        "npz": Reader("npz", ".npz", npz_seeds(), mutate_npz, read_npz),
        "pgm": Reader("pgm", ".pgm", pgm_seeds(), mutate_pgm, read_pgm),
    } | pillow_readers()


def pillow_readers() -> dict:
    """One reader per image format Pillow can write here (each file keeps its format's suffix)."""
    by_suffix: dict = {}
    for suffix, data in pillow_seeds():
        by_suffix.setdefault(suffix, []).append(data)
    # Without Pillow only the hand-made PNG is left, and every case must say that Pillow is needed.
    return {f"image{suffix}": Reader(f"image{suffix}", suffix, seeds, mutate_png, read_pillow)
            for suffix, seeds in by_suffix.items()}


# ------------------------------------------------------------------ the console command ---
class CommandBroke(AssertionError):
    """seqnn-predict ended in a way the contract does not allow (not exit 0, not one line and exit 2)."""


def predict_reader(model_path):
    """seqnn-predict on the file, in this process: exit 0, or exit 2 with one line naming the file."""
    from seqnn.cli import predict

    def read(path):
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings():
            # as the command runs for a user: a RuntimeWarning from the model's arithmetic on extreme but
            # finite values (softmax overflow, a numerics matter) is printed, not raised as this suite's
            # configuration would; the contract judged here is the exit status and the one line
            warnings.simplefilter("default")
            status = predict.main([model_path, path, "--quiet"])
        lines = [line for line in err.getvalue().strip().splitlines() if "Warning" not in line
                 and not line.startswith("  ")]  # a printed warning and its source line
        if status == 0:
            return None
        if status == 2 and len(lines) == 1 and "Traceback" not in err.getvalue():
            raise ValueError(lines[0])  # the runner checks that it names the file
        raise CommandBroke(f"exit {status}, stderr: {err.getvalue()[-600:]!r}")
    return read


# the model input each input type's first seed fits, so that unharmed cases predict (exit 0)
COMMAND_INPUTS = {"idx_gz": 12, "csv": 3, "npy": 3, "npz": 3, "pgm": 30, "image.png": 64}


def command_readers(tmp_dir) -> dict:
    """seqnn-predict on every input type it reads, with the seeds and mutations of each type's reader."""
    import seqnn as sn

    out = {}
    for name, reader in readers(tmp_dir).items():
        if name not in COMMAND_INPUTS:
            continue
        model_path = os.path.join(tmp_dir, f"model-{COMMAND_INPUTS[name]}.safetensors")
        model = sn.Sequential([sn.Input((COMMAND_INPUTS[name],)), sn.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy").save(model_path)
        out[f"predict:{name}"] = Reader(f"predict-{name}", reader.suffix, reader.seeds, reader.mutate,
                                        predict_reader(model_path), content_size=reader.content_size)
    return out


def check(tally, name):
    shown = "\n".join(f"case {i}: {problem}" for i, problem in tally.failures[:5])
    assert not tally.failures, f"{name}: {len(tally.failures)} of {tally.cases} cases broke the contract\n{shown}"


# ------------------------------------------------------------------ the runs ---
READER_NAMES = ["idx_raw", "idx_gz", "csv", "npy", "batch_loader", "npz", "pgm", "image.png"]


@pytest.mark.parametrize("name", READER_NAMES)
def test_fuzz_short(tmp_path, name):
    reader = readers(str(tmp_path / "seeds"))[name]
    tally = run(reader, SHORT_CASES, seed=0, workdir=str(tmp_path / "work"), save_dir=str(tmp_path / "failed"))
    check(tally, name)
    assert tally.loaded + tally.value_errors == tally.cases == SHORT_CASES


@pytest.mark.parametrize("name", ["predict:npy", "predict:csv", "predict:pgm"])
def test_fuzz_short_console_command(tmp_path, name):
    reader = command_readers(str(tmp_path / "seeds"))[name]
    tally = run(reader, SHORT_CASES // 5, seed=0, workdir=str(tmp_path / "work"), save_dir=str(tmp_path / "failed"))
    check(tally, name)


@pytest.mark.long
def test_fuzz_long(tmp_path):
    out = os.environ.get("SEQNN_FUZZ_OUT") or str(tmp_path)
    seed = int(os.environ.get("SEQNN_FUZZ_SEED", "1"))
    summary, problems = {}, []
    seeds_dir = os.path.join(out, "seeds")
    plan = [(name, reader, LONG_CASES) for name, reader in readers(seeds_dir).items()]
    plan += [(name, reader, max(1, LONG_CASES // 20)) for name, reader in command_readers(seeds_dir).items()]
    for name, reader, cases in plan:
        tally = run(reader, cases, seed=seed, workdir=os.path.join(out, "work"),
                    save_dir=os.path.join(out, "failed"))
        summary[name] = tally.summary()
        print(name, summary[name], flush=True)
        with open(os.path.join(out, "fuzz-summary.json"), "w") as f:
            json.dump({"seed": seed, "cases_per_reader": LONG_CASES, "readers": summary}, f, indent=1)
        if tally.failures:
            problems.append((name, tally))
    for name, tally in problems:
        check(tally, name)


# ------------------------------------------------------------------ NPY headers, by hypothesis ---
header_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8) | st.binary(max_size=4),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.tuples(inner)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12)
descrs = st.sampled_from(["<f4", "|u1", "<i8", "|O", "<U2", "|V0", "f8,i4", "<M8[D]"]) | header_values
shapes = st.lists(st.integers(0, 2**64) | header_values, max_size=5).map(tuple) | header_values


def _header_text(descr, fortran, shape, extra):
    fields = {"descr": descr, "fortran_order": fortran, "shape": shape, **extra}
    try:
        return repr(fields)
    except ValueError:  # an integer too long for repr
        return "{}"


HEADER_CASE = dict(descr=descrs, fortran=st.booleans() | header_values, shape=shapes,
                   extra=st.dictionaries(st.sampled_from(["extra", "shape"]), header_values, max_size=1),
                   version=st.sampled_from([1, 2, 3]), data=st.binary(max_size=64))


def check_header_case(directory, descr, fortran, shape, extra, version, data):
    """An .npy file (and an .npz holding it) with this header: loaded, or a ValueError naming the file."""
    path = os.path.join(directory, "h.npy")
    text = _header_text(descr, fortran, shape, extra)
    try:
        blob = npy_bytes(text, data, version=version)
    except UnicodeEncodeError:  # versions 1 and 2 are latin-1
        blob = npy_bytes(text.encode("latin1", "replace").decode("latin1"), data, version=version)
    with open(path, "wb") as f:
        f.write(blob)
    for read in (open_npy, lambda p: load_npz(_as_npz(p), x_key="x")):
        try:
            read(path)
        except ValueError as e:
            assert path in str(e), str(e)


@pytest.fixture(scope="module")
def header_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("npy-headers"))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(**HEADER_CASE)
def test_npy_headers_from_hypothesis(header_dir, descr, fortran, shape, extra, version, data):
    check_header_case(header_dir, descr, fortran, shape, extra, version, data)


@pytest.mark.long
@settings(max_examples=LONG_CASES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(**HEADER_CASE)
def test_npy_headers_from_hypothesis_long(header_dir, descr, fortran, shape, extra, version, data):
    check_header_case(header_dir, descr, fortran, shape, extra, version, data)


def _as_npz(path):
    with open(path, "rb") as f:
        member = f.read()
    with zipfile.ZipFile(path + ".npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x.npy", member)
    return path + ".npz"
