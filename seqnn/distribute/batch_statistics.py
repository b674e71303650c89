"""BatchNormalization under data parallelism: per-shard statistics, moving averages kept equal on every process.

seqnn normalises each shard with its own batch statistics, as Keras's and
Horovod's data parallelism do by default (no extra communication in the
forward and backward passes). The gradients are then those of N
BatchNormalization layers that each saw ``nᵣ`` rows, summed as in
:mod:`seqnn.distribute.shards`; a model with BatchNormalization therefore
trains differently from one process on the global batch (as it would
with a batch of ``nᵣ`` rows), unlike every other layer.

The moving statistics must not drift apart between processes, or each would
hold a different model. After every training step they are averaged, each
process weighted by its share of the batch (one more ordered sum, of the
moving statistics only)::

    moving ← Σᵣ (nᵣ/n)·movingᵣ = momentum·moving + (1 − momentum)·Σᵣ (nᵣ/n)·batchᵣ

so the moving mean follows the mean of the whole global batch exactly (the
weighted mean of the shards' means), and the moving variance the weighted
mean of the shards' variances (which leaves out the spread between the
shards' means), as ``tf.distribute``'s MEAN aggregation of Keras's moving
statistics does.
"""
from __future__ import annotations

import numpy as np

from .host import host_view, write_back

_MOVING = ("moving_mean", "moving_variance")


def updated_statistics(model) -> list[tuple]:
    """``(layer, key)`` of every moving statistic the last forward pass updated."""
    from ..layers.normalization import BatchNormalization

    return [(layer, key) for layer in model.innermost_layers()
            if isinstance(layer, BatchNormalization) and getattr(layer, "_batch_stats", False) for key in _MOVING]


def average_statistics(collectives, model, shard) -> None:
    """Replace each process's moving statistics by their average weighted by ``shard``'s row counts."""
    entries = updated_statistics(model)
    if not entries:
        return
    b = model.backend
    hosts = [host_view(b, layer.params[key]) for layer, key in entries]
    flat = np.concatenate([h.reshape(-1) for h in hosts])
    flat *= flat.dtype.type(shard.weight())
    collectives.allreduce_sum_(flat, "averaging the BatchNormalization moving statistics")
    offset = 0
    for (layer, key), host in zip(entries, hosts):
        host.reshape(-1)[...] = flat[offset:offset + host.size]
        offset += host.size
        write_back(b, layer.params[key], host)
