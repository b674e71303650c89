"""PyDataset (Keras 2: Sequence): a dataset defined by ``__len__`` and ``__getitem__``.

    class Batches(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size

        def __len__(self):                      # batches per epoch
            return math.ceil(len(self.x) / self.batch_size)

        def __getitem__(self, index):           # one batch: (x, y), (x, y, sample_weight), or x for predict
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[rows], self.y[rows]

    model.fit(Batches(x, y, 32), epochs=5)

``fit`` calls ``on_epoch_end()`` after each training epoch (shuffle there).
Batches are loaded in the training thread: ``workers``, ``use_multiprocessing``
and ``max_queue_size`` are accepted for Keras scripts and change nothing.
"""
from __future__ import annotations

from typing import Any, Iterator


class PyDataset:
    """Base class: subclasses implement ``__len__`` and ``__getitem__``."""

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ (the number of batches)")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__ (batch number index)")

    @property
    def num_batches(self) -> int:
        return len(self)

    def on_epoch_end(self) -> None:
        """Called by ``fit`` after every epoch; override to reshuffle."""

    def __iter__(self) -> Iterator[Any]:
        for index in range(len(self)):
            yield self[index]


Sequence = PyDataset  # Keras 2's name
