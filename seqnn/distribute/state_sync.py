"""Starting every process of a job from rank 0's state: the model, the optimizer, the random streams.

At the start of every distributed ``fit``, whatever each process built or
drew on its own (initial weights, a seed the OS chose, a loader's shuffling
seed) is replaced by rank 0's:

* the weights, trainable (the parameter arena, one broadcast) and not (moving statistics);
* the optimizer's slots (Adam's m and v, ...), its step count, scalar state and learning rate;
* every random layer's stream (seed and position), the shuffling
  generator of array data, and the seed of a :class:`~seqnn.datasets.BatchLoader`.

First the processes check that they hold the same model (weight names and
shapes, dtype, optimizer): broadcasting weights into another model would
silently train nonsense.
"""
from __future__ import annotations

from .errors import ProcessMismatchError
from .host import host_view, write_back
from .sharded_rng import random_layers


def fingerprint(model) -> tuple:
    """What must be equal on every process: dtype, every weight's path and shape, the optimizer's class."""
    weights = tuple((path, tuple(layer.params[key].shape)) for path, layer, key in model.weight_entries())
    return model.dtype, type(model.optimizer).__name__, weights


def check_same_model(collectives, model) -> None:
    prints = collectives.allgather_object(fingerprint(model), "checking that every process holds the same model")
    differing = [rank for rank, value in enumerate(prints) if value != prints[0]]
    if differing:
        raise ProcessMismatchError(f"rank {collectives.rank} of {collectives.size}: the processes do not hold the "
                                   f"same model: rank(s) {differing} differ from rank 0 in their weights' names or "
                                   "shapes, dtype or optimizer; every process must build and compile the same model")


def broadcast_model(collectives, model, sources) -> None:
    """Give every process rank 0's weights, optimizer state and random state (``sources``: fit's batch sources)."""
    check_same_model(collectives, model)
    b = model.backend
    arrays = [model.arena.values]
    arrays += [layer.params[key] for path, layer, key in model.weight_entries() if path not in model.arena.offsets]
    arrays += list(model.optimizer.slots.values())
    for array in arrays:
        host = host_view(b, array)
        collectives.broadcast_(host, "broadcasting rank 0's weights")
        write_back(b, array, host)
    optimizer = model.optimizer
    layers = random_layers(model)
    loaders = [source.source for source in sources if _is_batch_loader(getattr(source, "source", None))]
    state = {
        "optimizer": optimizer.state_scalars(),
        "learning_rate": None if optimizer.uses_schedule else optimizer.learning_rate,
        "streams": [layer.rng.state for layer in layers],
        "shuffle": [source.shuffle_state for source in sources],
        "loader_seeds": [loader.seed for loader in loaders],
    }
    state = collectives.broadcast_object(state, "broadcasting rank 0's training state")
    if collectives.rank == 0:
        return
    optimizer.set_state_scalars(state["optimizer"])
    if state["learning_rate"] is not None:
        optimizer.learning_rate = state["learning_rate"]
    for layer, stream in zip(layers, state["streams"]):
        layer.rng.state = stream
    for source, shuffle in zip(sources, state["shuffle"]):
        if shuffle is not None:
            source.shuffle_state = shuffle
    for loader, seed in zip(loaders, state["loader_seeds"]):
        loader.seed = seed


def _is_batch_loader(source) -> bool:
    from ..datasets.loader import BatchLoader

    return isinstance(source, BatchLoader)
