"""load_csv, load_npz and train_test_split: values, column selection, dtypes, and every error's message."""
import zipfile

import numpy as np
import pytest

import seqnn as sn
from seqnn.datasets import load_csv, load_npz, train_test_split


def write_csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- load_csv

TABLE = "a,b,label\n1,2.5,0\n3,-4e1,1\n\n5, 6 ,2\n"


def test_csv_features_and_integer_target(tmp_path):
    x, y = load_csv(write_csv(tmp_path, TABLE), target="label")
    np.testing.assert_array_equal(x, [[1, 2.5], [3, -40], [5, 6]])
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, [0, 1, 2])


def test_csv_without_target_returns_every_column(tmp_path):
    x = load_csv(write_csv(tmp_path, TABLE), dtype="float64")
    assert x.shape == (3, 3) and x.dtype == np.float64


def test_csv_column_selection_by_name_and_index(tmp_path):
    path = write_csv(tmp_path, TABLE)
    x, y = load_csv(path, target=-1, features=["b"])
    np.testing.assert_array_equal(x[:, 0], [2.5, -40, 6])
    x, y = load_csv(path, target=["a", "b"], features=[2])
    assert x.shape == (3, 1) and y.shape == (3, 2) and y.dtype == np.float32  # 2.5 is not whole


def test_csv_target_dtype_and_real_valued_target(tmp_path):
    x, y = load_csv(write_csv(tmp_path, "x,y\n1,0.5\n2,1.5\n"), target="y")
    assert y.dtype == np.float32
    _, y = load_csv(write_csv(tmp_path, "x,y\n1,0\n2,1\n"), target="y", target_dtype="float64")
    assert y.dtype == np.float64


def test_csv_unselected_text_columns_are_not_parsed(tmp_path):
    x, y = load_csv(write_csv(tmp_path, "id,v,t\nabc,1,0\ndef,2,1\n"), target="t", features=["v"])
    np.testing.assert_array_equal(x[:, 0], [1, 2])


def test_csv_quoted_fields_bom_and_other_delimiters(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"\xef\xbb\xbfa;b\n\"1\";2\n")
    np.testing.assert_array_equal(load_csv(path, delimiter=";"), [[1, 2]])


@pytest.mark.parametrize("text, message", [
    ("a,b\n1,2\n3,x\n", r"data\.csv, line 3, column 'b': 'x' is not a number"),
    ("a,b\n1,2\n3,\n", r"line 3, column 'b': missing value"),
    ("a,b\n1,2\n,\n", r"line 3, column 'a': missing value"),
    ("a,b\n1,nan\n", r"line 2, column 'b': 'nan' is not a finite number"),
    ("a,b\n1,inf\n", r"line 2, column 'b': 'inf' is not a finite number"),
    ("a,b\n1,2,3\n", r"line 2: expected 2 fields \(as in the header\), got 3"),
    ("a,b\n1\n", r"line 2: expected 2 fields"),
    ("", r"empty file; expected a header row"),
    ("a,b\n", r"no data rows after the header"),
    ("a,,c\n1,2,3\n", r"empty column name"),
    ("a,a\n1,2\n", r"column name 'a' appears twice"),
])
def test_csv_errors_name_the_line_and_column(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_csv(write_csv(tmp_path, text))


def test_csv_error_reports_the_physical_line_after_blank_lines(tmp_path):
    with pytest.raises(ValueError, match="line 5, column 'a'"):
        load_csv(write_csv(tmp_path, "a\n1\n\n\n?\n"))


@pytest.mark.parametrize("kwargs, message", [
    ({"target": "nope"}, r"target: no column 'nope' in .*; its columns are \['a', 'b', 'label'\]"),
    ({"target": 7}, r"target: column index 7 is out of range .* 3 columns"),
    ({"target": "a", "features": ["a", "b"]}, r"are both features and target"),
    ({"features": ["a", "a"]}, r"listed twice"),
    ({"features": []}, r"no columns given"),
    ({"target": "a", "delimiter": ";;"}, r"delimiter must be one character"),
])
def test_csv_bad_column_arguments(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_csv(write_csv(tmp_path, TABLE), **kwargs)


def test_csv_binary_file_is_a_value_error(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"a,b\n\xff\xfe\x00\x01\n")
    with pytest.raises(ValueError, match="not a UTF-8 text file|malformed CSV"):
        load_csv(path)


PLAIN_AND_QUIRKY = [
    TABLE, "a,b\r\n1,2\r\n\r\n3,4\r\n", "a,b\r1,2\r3,4", "\ufeffa,b\n 1 ,+2\n.5,5.\n", "a,b\n\"1\",2\n",
    "id,a,label\nx,1,0\ny,2,1\n", "a,b\n1,1_0\n", "a,b\n1,#2\n", "a,b\n1,2\n\t\n3,1e300\n",
]


@pytest.mark.parametrize("text", PLAIN_AND_QUIRKY)
def test_csv_fast_path_reads_what_the_strict_reader_reads(tmp_path, text, monkeypatch):
    """The vectorised pass and the cell-by-cell reader agree, value for value and error for error."""
    from seqnn.datasets import tabular

    path = write_csv(tmp_path, text)
    kwargs = {"target": "label", "features": ["a"]} if "label" in text else {}

    def read(**extra):
        try:
            return load_csv(path, **kwargs, **extra)
        except ValueError as e:
            return str(e)

    fast = read(), read(dtype="float64")
    monkeypatch.setattr(tabular, "read_plain_csv", lambda *args: None)
    strict = read(), read(dtype="float64")
    for a, b in zip(fast, strict):
        if isinstance(a, str) or isinstance(b, str):
            assert a == b
        else:
            for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
                assert u.dtype == v.dtype
                np.testing.assert_array_equal(u, v)


def test_csv_plain_file_takes_the_fast_path(tmp_path, monkeypatch):
    from seqnn.datasets import tabular

    def strict(*args):
        raise AssertionError("a plain file was read cell by cell")

    monkeypatch.setattr(tabular, "_read_strictly", strict)
    x, y = load_csv(write_csv(tmp_path, "id,a,b,label\nx,1,2,0\n\ny,3,4,1\n"), target="label", features=["a", "b"])
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [0, 1])


def test_csv_bad_cell_after_the_fast_pass_fails_is_still_named(tmp_path):
    rows = "\n".join(f"{i},{i}" for i in range(1000))
    with pytest.raises(ValueError, match=r"line 1003, column 'b': 'oops' is not a number"):
        load_csv(write_csv(tmp_path, f"a,b\n{rows}\n\n1,oops\n"))


def test_csv_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_csv(tmp_path / "absent.csv")


# ----------------------------------------------------------------------------- load_npz


def test_npz_keras_layout_and_xy_layout(tmp_path):
    x, y = np.arange(12).reshape(6, 2), np.arange(6)
    np.savez(tmp_path / "s.npz", x_train=x[:4], y_train=y[:4], x_test=x[4:], y_test=y[4:])
    (a, b), (c, d) = load_npz(tmp_path / "s.npz")
    np.testing.assert_array_equal(np.concatenate([a, c]), x)
    np.savez_compressed(tmp_path / "xy.npz", x=x, y=y)
    a, b = load_npz(tmp_path / "xy.npz")
    np.testing.assert_array_equal(b, y)
    np.savez(tmp_path / "other.npz", feats=x, labels=y)
    a, b = load_npz(tmp_path / "other.npz", x_key="feats", y_key="labels")
    np.testing.assert_array_equal(a, x)
    a, b = load_npz(tmp_path / "other.npz", x_key="feats")
    assert b is None


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "odd.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match=r"expected arrays x and y.*the file has \['a'\]"):
        load_npz(tmp_path / "odd.npz")
    with pytest.raises(ValueError, match=r"no array 'q'; the file has \['a'\]"):
        load_npz(tmp_path / "odd.npz", x_key="q")
    np.savez(tmp_path / "mismatch.npz", x=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(ValueError, match=r"x \(3, 2\) and y \(4,\) must hold the same number of samples"):
        load_npz(tmp_path / "mismatch.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"a \.npy file \(one array\), not an \.npz archive"):
        load_npz(tmp_path / "one.npy")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not an .npz file"):
        load_npz(tmp_path / "text.npz")


def test_npz_pickled_objects_are_refused(tmp_path):
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.zeros(2))
    with pytest.raises(ValueError, match="pickled"):
        load_npz(tmp_path / "obj.npz")


def test_npz_damaged_archive(tmp_path):
    np.savez_compressed(tmp_path / "d.npz", x=np.arange(10000), y=np.arange(10000))
    blob = bytearray((tmp_path / "d.npz").read_bytes())
    blob[200:260] = b"\x00" * 60
    (tmp_path / "d.npz").write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="not a readable .npz file"):
        load_npz(tmp_path / "d.npz")
    with zipfile.ZipFile(tmp_path / "cut.npz", "w") as z:
        z.writestr("x.npy", b"\x93NUMPY garbage")
    with pytest.raises(ValueError):
        load_npz(tmp_path / "cut.npz", x_key="x")


# ----------------------------------------------------------------------------- train_test_split


def test_split_sizes_order_and_determinism():
    x, y = np.arange(100).reshape(50, 2), np.arange(50)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, seed=3)
    assert len(xtr) == 40 and len(xte) == 10
    np.testing.assert_array_equal(xtr[:, 0] // 2, ytr)  # rows stay paired
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(50))
    again = train_test_split(x, y, test_size=0.2, random_state=3)
    np.testing.assert_array_equal(again[3], yte)
    assert len(train_test_split(y)[1]) == 13  # default 25 %, rounded up as scikit-learn does
    tr, te = train_test_split(y, test_size=5, train_size=10, seed=0)
    assert (len(tr), len(te)) == (10, 5)
    tr, te = train_test_split(y, test_size=0.2, shuffle=False)
    np.testing.assert_array_equal(te, np.arange(40, 50))


def test_split_follows_the_global_seed():
    y = np.arange(30)
    sn.utils.set_random_seed(5)
    a = train_test_split(y)[1]
    sn.utils.set_random_seed(5)
    np.testing.assert_array_equal(train_test_split(y)[1], a)


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    _, yte = train_test_split(y, test_size=0.2, stratify=y, seed=0)
    assert np.bincount(yte).tolist() == [12, 6, 2]
    ytr, yte = train_test_split(y, test_size=0.25, stratify=y, seed=1)  # shares 15, 7.5, 2.5: one .5 rounds up
    assert len(yte) == 25 and len(ytr) == 75
    assert np.all(np.abs(np.bincount(yte) - [15, 7.5, 2.5]) <= 0.5)
    np.testing.assert_array_equal(np.bincount(ytr) + np.bincount(yte), [60, 30, 10])


def test_stratified_split_matches_scikit_learn_counts():
    model_selection = pytest.importorskip("sklearn.model_selection")
    y = np.random.default_rng(0).integers(0, 7, 333)
    ours = train_test_split(y, test_size=0.3, stratify=y, seed=0)[1]
    theirs = model_selection.train_test_split(y, test_size=0.3, stratify=y, random_state=0)[1]
    assert len(ours) == len(theirs)
    assert np.all(np.abs(np.bincount(ours, minlength=7) - np.bincount(theirs, minlength=7)) <= 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"test_size": 1.5}, r"test_size must be in \(0, 1\)"),
    ({"test_size": 0}, r"test_size=0 must be between 1 and 9"),
    ({"test_size": 0.5, "train_size": 0.8}, r"more than the 10 there are"),
    ({"test_size": "a"}, r"test_size must be a fraction"),
    ({"stratify": np.arange(10)}, r"class .* has only 1 sample"),
    ({"stratify": np.zeros(10), "shuffle": False}, r"stratify needs shuffle=True"),
    ({"stratify": np.zeros(3)}, r"stratify has 3 labels for 10 samples"),
    ({"seed": 1, "random_state": 2}, r"give seed or random_state"),
])
def test_split_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        train_test_split(np.arange(10), **kwargs)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match=r"same number of samples, got lengths \[3, 4\]"):
        train_test_split(np.zeros(3), np.zeros(4))
