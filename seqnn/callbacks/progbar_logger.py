"""ProgbarLogger: progress on tqdm, adapted to where the output goes."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..argument_checks import describe
from ..distribute.base import distribution_of
from ._live_bar import LiveBar, terminal_width, wrap_parts
from ._output import format_logs
from .callback import Callback

_VERBOSE = (0, 1, 2, "auto")


def check_verbose(verbose) -> int:
    """fit/evaluate/predict's ``verbose`` as a level: 0, 1, 2 or "auto" (1); True / False count as 1 / 0 (Keras)."""
    if verbose not in _VERBOSE:
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return 1 if verbose == "auto" else int(verbose)


def _in_notebook() -> bool:
    """True inside a Jupyter kernel, whose stdout is no tty but shows a live (widget) bar well."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _per_step(seconds: float, steps: int) -> str:
    """Keras's time per step: ``3ms/step``, ``150us/step``, ``2s/step``."""
    t = seconds / max(steps, 1)
    if t >= 1:
        return f"{t:.0f}s/step"
    if t >= 1e-3:
        return f"{t * 1e3:.0f}ms/step"
    return f"{t * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
    """Prints progress for ``fit``, ``evaluate`` and ``predict`` (their ``verbose`` argument).

    ``verbose``: 0 silent; 1 (and ``"auto"``) a live bar where one can be
    shown, else one line per epoch; 2 one line per epoch. The ``verbose`` of
    ``fit`` / ``evaluate`` / ``predict`` (in ``params``) overrides the one given
    here, as in Keras.

    * **Live bar** (verbose 1, output is a terminal or a Jupyter notebook): a
      tqdm bar per epoch with the rate and the ETA, and the running loss and
      metrics on the lines below it, wrapped to the terminal's width, so no
      metric is ever cut off however narrow the terminal (``_live_bar``). At
      the epoch's end the bar gives way to the epoch's line (below), whole,
      validation included; the terminal wraps it if it must. In a notebook
      the bar is a widget that shows the logs beside it and stays.
    * **Plain lines** (verbose 2, or the output is a file or a pipe): a bar
      would fill a log file with carriage returns and redraws, so exactly one
      line is printed per epoch and nothing during it::

          Epoch 3/10 - 32/32 steps - 0.4s - 12ms/step - loss: 0.3012 - accuracy: 0.9100 - val_loss: 0.3300

    ``evaluate`` and ``predict`` print one summary line when they finish
    (after a transient bar on a terminal); ``fit``'s own validation prints
    nothing (its results are in the epoch line). Values use Keras's format:
    4 decimals, scientific notation below 1e-3 (a learning rate).

    Args:
        verbose: 0, 1, 2 or "auto" (used when no ``params`` say otherwise).
        stream: where to write (default: ``sys.stdout`` at the time of writing).
    """

    display_only = True

    def __init__(self, verbose="auto", stream: TextIO | None = None):
        super().__init__()
        self.verbose = check_verbose(verbose)
        if stream is not None and not callable(getattr(stream, "write", None)):
            raise TypeError(f"ProgbarLogger: stream must be a file-like object with write() (or None), "
                            f"got {describe(stream)}")
        self.stream = stream
        self._bar = None
        self._t0 = time.perf_counter()
        self._seen = 0

    def set_params(self, params):
        super().set_params(params)
        if "verbose" in params:
            self.verbose = check_verbose(params["verbose"])
        if not distribution_of(self.model).is_chief:
            self.verbose = 0  # data-parallel training: one progress display, rank 0's

    # ------------------------------------------------------------- output ---
    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _notebook(self) -> bool:
        """Writing to a Jupyter notebook's output (a widget bar there, whose text is never cut)."""
        return self.stream is None and _in_notebook()

    def _live(self) -> bool:
        if self.verbose != 1:
            return False
        if self._notebook():
            return True
        isatty = getattr(self._out, "isatty", None)
        try:
            return bool(isatty is not None and isatty())
        except (ValueError, OSError):  # a closed or detached stream
            return False

    def _in_fit(self) -> bool:
        return "epochs" in self.params

    def _start(self, description: str) -> None:
        self._t0, self._seen = time.perf_counter(), 0
        self._close()
        if not (self.verbose and self._live()):
            return
        if self._notebook():
            from tqdm.auto import tqdm  # a widget, whose text is never cut

            self._bar = tqdm(total=self.params.get("steps"), desc=description, unit="step", leave=self._in_fit())
        else:
            self._bar = LiveBar(self._out, self.params.get("steps"), description)

    def _advance(self, batch: int, logs: dict | None) -> None:
        self._seen = batch + 1  # batch indices, not a count: a resumed epoch starts past 0
        if isinstance(self._bar, LiveBar):
            self._bar.update(self._seen, logs)
        elif self._bar is not None:
            if logs:
                self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.update(self._seen - self._bar.n)

    def _close(self, logs: dict | None = None) -> bool:
        """Take the live display down; True when it was a notebook widget that now shows ``logs`` and stays."""
        bar, self._bar = self._bar, None
        if bar is None:
            return False
        if isinstance(bar, LiveBar):
            bar.close()
            return False
        if logs:
            bar.set_postfix_str(format_logs(logs), refresh=False)
        bar.close()
        return self._in_fit()

    def _line(self, head: str, logs: dict | None) -> None:
        """The finished epoch (or evaluation): one line to a file or pipe, wrapped between parts on a terminal."""
        seconds = time.perf_counter() - self._t0
        steps = self.params.get("steps")
        count = f"{self._seen}/{steps} steps" if steps else f"{self._seen} steps"
        parts = [head, count, f"{seconds:.1f}s", _per_step(seconds, self._seen)]
        if logs:
            parts.extend(format_logs(logs).split(" - "))
        if self._live() and not self._notebook():
            text = "\n".join(wrap_parts(parts, max(terminal_width(self._out) - 1, 20)))
        else:
            text = " - ".join(parts)
        print(text, file=self._out, flush=True)

    # ---------------------------------------------------------------- fit ---
    def on_epoch_begin(self, epoch, logs=None):
        self._start(f"Epoch {epoch + 1}/{self.params.get('epochs')}")

    def on_train_batch_end(self, batch, logs=None):
        self._advance(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if not self._close(logs) and self.verbose:
            self._line(f"Epoch {epoch + 1}/{self.params.get('epochs')}", logs)

    def on_train_end(self, logs=None):
        self._close()

    # --------------------------------------------------- evaluate / predict ---
    def on_test_begin(self, logs=None):
        if not self._in_fit():
            self._start("Evaluate")

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit():
            self._advance(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit():
            self._close()
            if self.verbose:
                self._line("Evaluate", logs)

    def on_predict_begin(self, logs=None):
        self._start("Predict")

    def on_predict_batch_end(self, batch, logs=None):
        self._advance(batch, None)  # predict's batch logs hold the outputs, not numbers to show

    def on_predict_end(self, logs=None):
        self._close()
        if self.verbose:
            self._line("Predict", None)
