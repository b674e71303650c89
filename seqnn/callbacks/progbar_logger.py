"""ProgbarLogger: progress on tqdm, adapted to where the output goes."""
from __future__ import annotations

import sys
import time

from .callback import Callback


def _format(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Prints training progress (``verbose`` of fit: 0 silent, 1 bar, 2 one line per epoch).

    With ``verbose=1`` on a terminal or notebook a live tqdm bar shows the
    running loss and metrics and the ETA. When the output is not a terminal (a
    log file, a pipe), a bar would fill the file with carriage returns, so it
    prints one plain line per epoch instead, as ``verbose=2`` does.
    ``"auto"`` means 1.
    """

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self._bar = None

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", self.verbose)
        self.verbose = 1 if verbose == "auto" else int(verbose)

    @property
    def _out(self):
        return self.stream if self.stream is not None else sys.stdout

    def _live(self) -> bool:
        isatty = getattr(self._out, "isatty", None)
        return self.verbose == 1 and bool(isatty and isatty())

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._epoch = epoch
        if self.verbose and self._live():
            from tqdm.auto import tqdm

            epochs = self.params.get("epochs")
            self._bar = tqdm(total=self.params.get("steps"), file=self._out, leave=True, unit="batch",
                             desc=f"Epoch {epoch + 1}/{epochs}", dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            if logs and batch % 10 == 0:
                self._bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._t0
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4f}" for k, v in (logs or {}).items()})
            self._bar.close()
            self._bar = None
        elif self.verbose:
            epochs = self.params.get("epochs")
            line = f"Epoch {epoch + 1}/{epochs} - {seconds:.1f}s - {_format(logs or {})}"
            print(line, file=self._out, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
