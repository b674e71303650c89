"""Fuzzing the model, weights and backup loaders: a correct load, or a ValueError naming the file; nothing else.

Readers: ``load_model`` (compiling, and not), ``model.load_weights``, and a
fit resuming from a ``BackupAndRestore`` backup. Seeds are real files saved
here (a model with BatchNormalization, Dropout and a nested model; a CNN; an
uncompiled model; a weights file; a backup written mid-epoch with running
metrics and EarlyStopping's best weights). Each case applies the mutations of
:mod:`fuzz_model_mutations` (tensor entries that lie, huge declared shapes and
offsets, spliced headers, JSON values, types, keys and nesting changed in
``model_config``, ``compile_config`` and ``training_state``, and blind byte
edits) and is judged by :mod:`fuzz_runner`: no other exception, no hang, no
memory far beyond the file's content. A weights or backup load that fails
must also leave the model as it was.

The default run does a few hundred cases (seconds). The long run
(``pytest -m long tests/test_fuzz_model_files.py``) does ``SEQNN_FUZZ_CASES``
(default 100,000) per reader (``SEQNN_FUZZ_READERS`` picks some), in chunks of 10,000, saves failing files
under ``SEQNN_FUZZ_OUT`` (default: the test's temporary directory) and writes its counts to
``fuzz-model-summary.json`` there after every chunk; run again with the same settings, it goes on where an
interrupted campaign stopped.
"""
import json
import os
import shutil
import warnings

import fuzz_model_mutations as MM
import numpy as np
import pytest
from fuzz_runner import Reader, Tally, run, run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_files import metadata_json, with_metadata

import seqnn as sn

L = sn.layers
SHORT_CASES = 150
LONG_CASES = int(os.environ.get("SEQNN_FUZZ_CASES", "100000"))


# ------------------------------------------------------------------ seeds ---
def data(n=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def rich_model():
    sn.utils.set_random_seed(0)
    inner = sn.Sequential([L.Input((8,)), L.Dense(4, activation="tanh")], name="inner")
    model = sn.Sequential([L.Input((6,)), L.Dense(8, activation="relu", kernel_regularizer="l2"),
                           L.BatchNormalization(), L.Dropout(0.25), inner, L.Dense(3, activation="softmax")],
                          name="rich")
    return model.compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])


def cnn_model():
    sn.utils.set_random_seed(1)
    model = sn.Sequential([L.Input((6, 6, 1)), L.Conv2D(2, 3, activation="relu"), L.MaxPooling2D(2),
                           L.Flatten(), L.Dense(3, activation="softmax")], name="cnn")
    return model.compile(optimizer=sn.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy")


def backup_setup(backup_dir, crash_after=None):
    """The model and callbacks of the backup seed; ``crash_after`` batches, then the fit is interrupted."""
    class Crash(sn.callbacks.Callback):
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            Crash.seen += 1
            if Crash.seen == crash_after:
                raise KeyboardInterrupt

    model = rich_model()
    model.compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", sn.metrics.AUC(num_thresholds=5, multi_label=True)])
    callbacks = [Crash(), sn.callbacks.EarlyStopping(monitor="loss", patience=3, restore_best_weights=True),
                 sn.callbacks.BackupAndRestore(backup_dir, save_freq=1)]
    return model, callbacks


def fit_backup(model, callbacks):
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=callbacks, seed=2)


def read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def make_seeds(directory) -> dict[str, bytes]:
    os.makedirs(directory, exist_ok=True)
    x, y = data()
    seeds = {}
    model = rich_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for name, save in [("model", model.save), ("weights", model.save_weights)]:
        path = os.path.join(directory, f"{name}.safetensors")
        save(path)
        seeds[name] = read_bytes(path)
    cnn = cnn_model()
    cnn.fit(np.random.default_rng(0).random((8, 6, 6, 1)).astype(np.float32), np.arange(8) % 3, epochs=1,
            verbose=0)
    path = os.path.join(directory, "cnn.safetensors")
    cnn.save(path)
    seeds["cnn"] = read_bytes(path)
    path = os.path.join(directory, "uncompiled.safetensors")
    sn.Sequential([L.Input((6,)), L.Dense(2)]).save(path)
    seeds["uncompiled"] = read_bytes(path)
    backup_dir = os.path.join(directory, "backup")
    shutil.rmtree(backup_dir, ignore_errors=True)  # a backup from an earlier run would be resumed, and finish
    try:
        fit_backup(*backup_setup(backup_dir, crash_after=3))
    except KeyboardInterrupt:
        pass
    seeds["backup"] = read_bytes(os.path.join(backup_dir, "backup.safetensors"))
    return seeds


# ------------------------------------------------------------------ readers ---
def same_weights(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(u, v, equal_nan=True) for u, v in zip(a, b))


def read_weights(path):
    model = rich_model()
    before = model.get_weights()
    try:
        model.load_weights(path)
    except ValueError:
        assert same_weights(before, model.get_weights()), "a refused load_weights changed the model"
        raise


def read_backup(path):
    """A fit that resumes from ``path`` as its backup; refused, it must leave the model untouched."""
    directory = os.path.join(os.path.dirname(path), "resume")
    os.makedirs(directory, exist_ok=True)
    os.replace(path, os.path.join(directory, "backup.safetensors"))
    # The runner checks that errors name the path it wrote; the backup is read under its own name.
    model, callbacks = backup_setup(directory)
    before = model.get_weights()
    try:
        with warnings.catch_warnings():
            # Weights and optimizer state may be any numbers, inf and NaN included: training on them
            # warns (and ends in NaN), which is arithmetic, not the loader's business.
            warnings.simplefilter("ignore", RuntimeWarning)
            fit_backup(model, callbacks)
    except ValueError as e:
        assert same_weights(before, model.get_weights()), "a refused backup changed the model"
        raise ValueError(str(e).replace(os.path.join(directory, "backup.safetensors"), path)) from None
    finally:
        for name in os.listdir(directory):
            os.unlink(os.path.join(directory, name))


def readers(seed_dir) -> dict[str, Reader]:
    seeds = make_seeds(seed_dir)
    everything = list(seeds.values())
    return {
        "load_model": Reader("load_model", ".safetensors", everything, MM.mutate, sn.load_model),
        "load_model_uncompiled": Reader("load_model_uncompiled", ".safetensors", everything, MM.mutate,
                                        lambda path: sn.load_model(path, compile=False)),
        "load_weights": Reader("load_weights", ".safetensors", [seeds["weights"], seeds["model"], seeds["backup"]],
                               MM.mutate, read_weights),
        "backup": Reader("backup", ".safetensors", [seeds["backup"]] * 4 + everything, MM.mutate, read_backup),
    }


def check(tally, name):
    shown = "\n".join(f"case {i}: {problem}" for i, problem in tally.failures[:5])
    assert not tally.failures, f"{name}: {len(tally.failures)} of {tally.cases} cases broke the contract\n{shown}"


# ------------------------------------------------------------------ the runs ---
@pytest.fixture(scope="module")
def seeded_readers(tmp_path_factory):
    return readers(str(tmp_path_factory.mktemp("model-seeds")))


@pytest.mark.parametrize("name", ["load_model", "load_model_uncompiled", "load_weights", "backup"])
def test_fuzz_short(tmp_path, seeded_readers, name):
    reader = seeded_readers[name]
    tally = run(reader, SHORT_CASES, seed=0, workdir=str(tmp_path / "work"), save_dir=str(tmp_path / "failed"))
    check(tally, name)
    assert tally.loaded + tally.value_errors == tally.cases == SHORT_CASES
    assert tally.value_errors > SHORT_CASES // 3 and tally.loaded > 0  # the mutations reach both outcomes


def test_the_unmutated_seeds_load(seeded_readers, tmp_path):
    for name, reader in seeded_readers.items():
        tally = Tally()
        for seed in reader.seeds[:1]:
            assert run_case(reader, seed, str(tmp_path / "seed.safetensors"), tally) is None, name
        assert tally.loaded == 1, name


@pytest.mark.long
def test_fuzz_long(tmp_path):
    out = os.environ.get("SEQNN_FUZZ_OUT") or str(tmp_path)
    seed = int(os.environ.get("SEQNN_FUZZ_SEED", "1"))
    chosen = os.environ.get("SEQNN_FUZZ_READERS")  # e.g. "backup,load_weights"; all four by default
    summary_path = os.path.join(out, "fuzz-model-summary.json")
    summary = _resumable_summary(summary_path, seed)
    failures = []
    for name, reader in readers(os.path.join(out, "model-seeds")).items():
        if chosen and name not in chosen.split(","):
            continue
        totals = summary["readers"].setdefault(name, {"chunks": 0, "cases": 0, "loaded": 0, "value_errors": 0,
                                                      "failures": 0, "max_rss_growth_mib": 0.0, "seconds": 0.0})
        # In chunks, each saved as it ends, so that a campaign cut short goes on where it stopped.
        while totals["cases"] < LONG_CASES:
            cases = min(LONG_CASES_PER_CHUNK, LONG_CASES - totals["cases"])
            tally = run(reader, cases, seed=f"{seed}.{totals['chunks']}", workdir=os.path.join(out, "work"),
                        save_dir=os.path.join(out, "failed"))
            part = tally.summary()
            totals["chunks"] += 1
            for key in ("cases", "loaded", "value_errors", "failures", "seconds"):
                totals[key] = round(totals[key] + part[key], 1) if key == "seconds" else totals[key] + part[key]
            totals["max_rss_growth_mib"] = max(totals["max_rss_growth_mib"], part["max_rss_growth_mib"])
            totals["memory_checked"] = part["memory_checked"]
            with open(summary_path, "w") as f:
                json.dump(summary, f, indent=1)
            failures += [(name, i, problem) for i, problem in tally.failures]
        print(name, totals, flush=True)
    shown = "\n".join(f"{name} case {i}: {problem}" for name, i, problem in failures[:5])
    assert not failures and all(t["failures"] == 0 for t in summary["readers"].values()), shown


LONG_CASES_PER_CHUNK = 10_000


def _resumable_summary(path: str, seed: int) -> dict:
    """The counts of an earlier run of the same campaign (seed and size), to go on from; else a new one."""
    try:
        with open(path) as f:
            summary = json.load(f)
        if summary.get("seed") == seed and summary.get("cases_per_reader") == LONG_CASES:
            return summary
    except (OSError, ValueError):
        pass
    return {"seed": seed, "cases_per_reader": LONG_CASES, "readers": {}}


# ------------------------------------------------------------------ config values, by hypothesis ---
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.sampled_from(["model_config", "compile_config", "training_state"]),
       choice=st.integers(0, 10**6), value=json_values)
def test_any_json_value_anywhere_in_the_metadata(seeded_readers, tmp_path, document, choice, value):
    raw = seeded_readers["backup"].seeds[0]
    config = metadata_json(raw, document)
    nodes = MM._nodes(config)
    container, key = nodes[choice % len(nodes)]
    container[key] = value
    reader = seeded_readers["load_model"] if document != "training_state" else seeded_readers["backup"]
    problem = run_case(reader, with_metadata(raw, **{document: config}), str(tmp_path / "case.safetensors"),
                       Tally(memory_checked=False))
    assert problem is None, problem
