"""Exact sums: the gradient that N processes compute is the float32 gradient one process computes.

**Why.** A weight gradient is a sum over the batch: a Dense kernel's is
``Xᵀ·dZ``, its bias's ``Σᵢ dzᵢ``. One process sums the whole batch in one
float32 product; N processes would each sum their shard in float32 and then
add the N partial sums, which rounds differently (float32 addition is not
associative). That is one rounding, 1e-7 relative, but training amplifies it:
once a ReLU whose pre-activation lies within rounding of zero flips in one
run and not in the other, the runs drift apart, and after one MNIST epoch
the weights were 5e-2 (relative) apart.

**How.** The product of two float32 numbers is exact in float64, and a
float64 sum of a batch's products is off by about 2⁻⁵³ of the sum of their
magnitudes, far below a float32 rounding step (2⁻²⁴). So each process sums
its shard's products in float64 (:meth:`ExactSums.dense`), the float64
partial sums are added over the processes (in rank order), and the total is
rounded to float32 once (:meth:`ExactSums.finish`). The float32 result is
then the rounding of the exact sum, whatever the split, except where the
exact sum lies within float64 rounding of a float32 rounding boundary: rare
enough that a whole MNIST epoch on 2 or 3 processes ends bit-identical to
one process (docs/guide/distributed.rst).

The rest of a step is already the same for a row whatever shard it is in:
the forward products and the input gradients are computed row by row (BLAS
gives a row the same bits whatever the other rows, for the shards of a few
rows or more that data-parallel training uses; for 1 to 3 rows OpenBLAS may
take another path), and so are activations, dropout masks and the loss's
gradient, once the loss weighs every row by ``1/n`` with ``n`` the global
batch's rows (:attr:`seqnn.losses.Loss.batch_rows`) instead of ``1/nᵣ`` then
``nᵣ/n``.

What is widened: the layers with ``supports_exact_sums`` (Dense, its kernel
and bias), in float32 models. The other layers' gradients (Conv2D kernels,
normalization's gamma and beta) are computed in float32 per shard as before,
then carried in float64 through the sum: they agree with one process to
rounding, not bit for bit. A float64 model gains nothing from widening.
"""
from __future__ import annotations

import numpy as np

from .. import backends
from .host import host_view, write_back


class ExactSums:
    """A model's gradient in float64 during one data-parallel ``fit``, rounded to the model's dtype once per step.

    :meth:`attach` gives the layers that support it this object as their
    ``exact_sums``; their ``backward`` calls :meth:`dense`, which writes the
    float64 sums into :attr:`sums` (arena layout) instead of the float32
    gradients. :meth:`finish` completes a step: the other parameters'
    gradients are copied in, the vector is summed over the processes, and the
    model's gradient arena gets its rounding.
    """

    def __init__(self, model):
        arena = model.arena
        self.backend = model.backend
        self.host = backends.get("numpy")  # float64 products on host memory, with the numpy backend's gemm
        self.sums = np.zeros(arena.size, np.float64)
        self._views: dict[tuple[int, str], np.ndarray] = {}
        self._segments: dict[int, list[tuple[int, int]]] = {}  # layer id -> the arena segments it widens
        self._layers: list = []
        self._widened_this_step: set[int] = set()
        self._scratch: dict[tuple, np.ndarray] = {}
        narrow = np.dtype(model.dtype).itemsize < np.dtype(np.float64).itemsize
        widened = set()
        for path, layer, key in model.weight_entries(trainable_only=True):
            if narrow and layer.supports_exact_sums:
                self._views[id(layer), key] = arena.view(self.sums, path)
                start = arena.offsets[path]
                self._segments.setdefault(id(layer), []).append((start, start + self._views[id(layer), key].size))
                if not self._layers or self._layers[-1] is not layer:
                    self._layers.append(layer)
                widened.add(path)
        # The gradients no layer widens: copied from the float32 arena every step.
        self._narrow = [segment for path, segment in zip(arena.paths, arena.segments()) if path not in widened]

    def attach(self) -> None:
        for layer in self._layers:
            layer.exact_sums = self

    def detach(self) -> None:
        for layer in self._layers:
            vars(layer).pop("exact_sums", None)  # back to the class's None: the backend's float32 ops

    # ------------------------------------------------------ layers' sums ---
    def _wide(self, role: str, array) -> np.ndarray:
        """``array`` (a backend array) as float64 host memory, in a buffer kept for the next step."""
        host = self.backend.to_numpy(array)
        key = (role, host.shape)
        buffer = self._scratch.get(key)
        if buffer is None:
            buffer = self._scratch[key] = np.empty(host.shape, np.float64)
        np.copyto(buffer, host)
        return buffer

    def dense(self, layer, x, dz) -> None:
        """A Dense layer's weight gradients in float64: ``kernel = xᵀ·dz`` and ``bias = Σ_rows dz``.

        ``x`` is the layer's input (rows × in), ``dz`` the gradient of its
        pre-activation (rows × units), both 2-D backend arrays.
        """
        x64, dz64 = self._wide("x", x), self._wide("dz", dz)
        self.host.gemm(x64, dz64, out=self._views[id(layer), "kernel"], trans_a=True)
        bias = self._views.get((id(layer), "bias"))
        if bias is not None:
            self.host.bias_grad(dz64, out=bias)
        self._widened_this_step.add(id(layer))

    # ------------------------------------------------------------- step ---
    def finish(self, model, collectives=None, share: float = 1.0, what: str = "the gradient sum") -> None:
        """End a step's gradient: gather it in float64, sum it over the processes, round it into the arena.

        ``collectives`` is None on one process. ``share`` scales this
        process's part (0 for an empty shard; the loss already weighed each
        row by ``1/n``, so it is 1 otherwise).
        """
        grads = model.arena.grads
        host = host_view(self.backend, grads)
        for start, stop in self._narrow:
            self.sums[start:stop] = host[start:stop]
        for layer in self._layers:  # a layer whose backward did not widen this step (a subclass's own backward)
            if id(layer) not in self._widened_this_step:
                for start, stop in self._segments[id(layer)]:
                    self.sums[start:stop] = host[start:stop]
        self._widened_this_step.clear()
        if collectives is not None:
            if share != 1.0:
                self.sums *= share
            collectives.allreduce_sum_(self.sums, what)
        host[...] = self.sums  # the one rounding to the model's dtype
        write_back(self.backend, grads, host)


def exact_share(shard, reduction: str, rank: int | None = None) -> float:
    """Rank ``rank``'s factor (default: the shard's own) when the loss weighed its rows by ``1/n`` of the global
    batch already: 1, or 0 for an empty shard (the reduction is checked as
    :meth:`~seqnn.distribute.shards.Shard.share` checks it)."""
    return 0.0 if shard.share(reduction, rank) == 0.0 else 1.0
