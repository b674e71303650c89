"""ProgbarLogger: one plain line per epoch to pipes and files, a live tqdm bar on a terminal."""
import io
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import ProgbarLogger


class FakeTTY(io.StringIO):
    """A stream that says it is a terminal, as sys.stdout does in an interactive shell."""

    def isatty(self):
        return True


def data(n=48):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.argmax(x @ rng.normal(size=(4, 3)), axis=1)


def model_for():
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, activation="softmax")])
    return model.compile(optimizer=sn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])


EPOCH_LINE = re.compile(r"Epoch (\d+)/(\d+) - 3/3 steps - \d+\.\ds - \d+(us|ms|s)/step - loss: \d\.\d{4} - "
                        r"accuracy: \d\.\d{4}( - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4})?")


def test_fit_to_a_pipe_prints_exactly_one_plain_line_per_epoch():
    script = textwrap.dedent("""
        import numpy as np, seqnn as sn
        rng = np.random.default_rng(0)
        x = rng.normal(size=(48, 4)).astype(np.float32)
        y = np.argmax(x @ rng.normal(size=(4, 3)), axis=1)
        for verbose in ("auto", 1, 2, 0):
            model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, activation="softmax")])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            kwargs = {} if verbose == "auto" else {"verbose": verbose}
            model.fit(x, y, epochs=4, batch_size=16, **kwargs)
            print("---", flush=True)
    """)
    result = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "\r" not in out and "\b" not in out and "\x1b" not in out
    errors = result.stderr.decode()
    assert "Epoch" not in errors and "\r" not in errors     # tqdm would write to stderr by default
    blocks = out.split("---\n")
    assert blocks[-1] == ""
    for block in blocks[:3]:                             # "auto", 1 and 2: one line per epoch
        lines = block.splitlines()
        assert len(lines) == 4
        for epoch, line in enumerate(lines, start=1):
            match = EPOCH_LINE.fullmatch(line)
            assert match and match.group(1, 2) == (str(epoch), "4"), line
    assert blocks[3] == ""                               # verbose=0: silent


def test_fit_to_a_non_tty_stream_with_validation_prints_one_line_per_epoch():
    x, y = data()
    out = io.StringIO()
    model_for().fit(x, y, epochs=3, batch_size=16, validation_data=(x[:8], y[:8]),
                    callbacks=[ProgbarLogger(stream=out)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(EPOCH_LINE.fullmatch(line) and "val_accuracy" in line for line in lines)


def test_fit_on_a_terminal_shows_a_live_tqdm_bar():
    x, y = data()
    tty = FakeTTY()
    model_for().fit(x, y, epochs=2, batch_size=16, callbacks=[ProgbarLogger(stream=tty)])
    text = tty.getvalue()
    assert "\r" in text                                   # redrawn in place
    assert re.search(r"Epoch 1/2: .*\| \d/3 \[\d\d:\d\d<", text) and "step/s" in text  # bar, elapsed, rate
    assert re.search(r"\rloss: \d\.\d{4} - accuracy: \d\.\d{4}", text)  # the running logs, on their own line
    finished = [line.split("\r")[-1] for line in text.split("\n") if "steps - " in line]
    assert len(finished) == 2                             # each finished epoch stays on screen as one whole line
    for epoch, line in enumerate(finished, start=1):
        assert re.fullmatch(rf"Epoch {epoch}/2 - 3/3 steps - \S+s - \S+/step - loss: \S+ - accuracy: \S+", line)


def test_no_metric_is_cut_off_on_a_narrow_terminal(monkeypatch):
    """At 40 columns the running logs wrap onto as many lines as they need, each within the width."""
    from seqnn.callbacks import _live_bar

    from seqnn.callbacks import progbar_logger

    for module in (_live_bar, progbar_logger):
        monkeypatch.setattr(module, "terminal_width", lambda stream, default=80: 40)
    monkeypatch.setattr(_live_bar, "_REFRESH_SECONDS", 0.0)  # draw the logs at every step
    x, y = data()
    tty = FakeTTY()
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy", "sparse_categorical_crossentropy"])
    model.fit(x, y, epochs=1, batch_size=16, callbacks=[ProgbarLogger(stream=tty)])
    drawn = [piece.strip() for piece in re.split(r"[\r\n]|\x1b\[A", tty.getvalue())]
    finished = drawn.index(next(piece for piece in drawn if piece.startswith("Epoch 1/1 - ")))
    last_draw = drawn[max(i for i, piece in enumerate(drawn[:finished]) if piece.startswith("loss: ")):finished]
    log_lines = [piece for piece in last_draw if re.match(r"\w+:|\d\.\d{4}", piece)]
    assert len(log_lines) >= 3 and all(len(line) <= 39 for line in log_lines)
    keys = ("loss", "accuracy", "sparse_top_k_categorical_accuracy", "sparse_categorical_crossentropy")
    for key in keys:
        assert re.search(rf"(^| ){key}: \d\.\d{{4}}", " ".join(log_lines)), (key, log_lines)
    # The finished epoch, whole, wrapped between parts within the terminal's width too.
    final = [line for line in drawn[finished:] if line]
    assert all(len(line) <= 39 for line in final) and final[0].startswith("Epoch 1/1 - 3/3 steps")
    for key in keys:
        assert re.search(rf"(^| ){key}: \d\.\d{{4}}", " ".join(final)), (key, final)


@pytest.mark.parametrize("width, expected", [
    (80, ["loss: 0.1234 - accuracy: 0.9000 - val_loss: 0.2000"]),
    (30, ["loss: 0.1234", "accuracy: 0.9000", "val_loss: 0.2000"]),
    (33, ["loss: 0.1234 - accuracy: 0.9000", "val_loss: 0.2000"]),
    (12, ["loss: 0.1234", "accuracy:", "0.9000", "val_loss:", "0.2000"]),  # parts wider than the line
    (4, ["loss", ":", "0.1234", "accu", "racy", ":", "0.9000", "val_", "loss", ":", "0.2000"]),
])
def test_logs_wrap_between_metrics(width, expected):
    from seqnn.callbacks._live_bar import wrap_logs

    assert wrap_logs({"loss": 0.1234, "accuracy": 0.9, "val_loss": 0.2}, width) == expected


def test_verbose_2_on_a_terminal_prints_plain_lines():
    x, y = data()
    tty = FakeTTY()
    model_for().fit(x, y, epochs=2, batch_size=16, verbose=2, callbacks=[ProgbarLogger(stream=tty)])
    lines = tty.getvalue().split("\n")
    assert "\r" not in tty.getvalue() and len(lines) == 3 and lines[2] == ""


def test_fit_verbose_0_is_silent_even_with_an_explicit_progbar():
    x, y = data()
    out = FakeTTY()
    model_for().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[ProgbarLogger(stream=out)])
    assert out.getvalue() == ""


def test_evaluate_and_predict_print_one_summary_line():
    x, y = data()
    model = model_for()
    out = io.StringIO()
    model.evaluate(x, y, batch_size=16, callbacks=[ProgbarLogger(stream=out)])
    model.predict(x, batch_size=16, callbacks=[ProgbarLogger(stream=out)])
    model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[ProgbarLogger(stream=out)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"Evaluate - 3/3 steps - \d+\.\ds - \d+(us|ms|s)/step - loss: \d\.\d{4} - "
                        r"accuracy: \d\.\d{4}", lines[0])
    assert re.fullmatch(r"Predict - 3/3 steps - \d+\.\ds - \d+(us|ms|s)/step", lines[1])


def test_evaluate_on_a_terminal_clears_its_bar_and_prints_the_summary():
    x, y = data()
    tty = FakeTTY()
    model_for().evaluate(x, y, batch_size=16, callbacks=[ProgbarLogger(stream=tty)])
    text = tty.getvalue()
    assert "Evaluate:" in text                            # the transient bar
    last = text.split("\r")[-1]                           # what is left after the bar erased itself
    assert re.fullmatch(r"Evaluate - 3/3 steps - .* - loss: \d\.\d{4} - accuracy: \d\.\d{4}\n", last)


def test_small_values_use_scientific_notation():
    x, y = data()
    out = io.StringIO()
    reduce = sn.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10, verbose=1)
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=sn.optimizers.SGD(1e-4), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=16, callbacks=[reduce, ProgbarLogger(stream=out)])
    lines = out.getvalue().splitlines()
    assert [line[-25:] for line in lines] == ["learning_rate: 1.0000e-04"] * 2 + ["learning_rate: 5.0000e-05"]


def test_resumed_epoch_counts_from_the_batch_index():
    bar = ProgbarLogger(stream=FakeTTY())
    bar.set_params({"epochs": 1, "steps": 5, "verbose": 1})
    bar.on_epoch_begin(0)
    bar.on_train_batch_end(3, {"loss": 0.5})              # batches 0-2 ran before the interruption
    assert bar._bar.steps_done == 4
    bar.on_epoch_end(0, {"loss": 0.5})


@pytest.mark.parametrize("verbose", [3, "yes", -1])
def test_bad_verbose(verbose):
    x, y = data()
    with pytest.raises(ValueError, match=re.escape(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")):
        model_for().fit(x, y, epochs=1, verbose=verbose)
